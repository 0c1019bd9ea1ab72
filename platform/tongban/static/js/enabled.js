/* Loaded without defer in <head>: marks the page as having JavaScript before it is drawn, so
   questions that forms.js reveals later do not flash up first (see forms.css, tb-js). */
document.documentElement.classList.add("tb-js");
