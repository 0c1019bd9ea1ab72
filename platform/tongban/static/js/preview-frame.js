/* The form editor's preview frame: mark JavaScript as on before the page is drawn, as the
   inline script in base.html does for applicants (the frame's CSP allows no inline script). */
document.documentElement.classList.add("tb-js");
