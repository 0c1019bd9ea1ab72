"""The one-window counter (一窗受理): the applicants a counter clerk serves (person records),
looked up by ID number or USCC and read from the population register when one is configured,
and the words a form uses when a clerk fills it in for them. No Flask here (docs/counter.md)."""
