// Progressive enhancement: the board's filters fold behind "Filtres (n)" (a <details>, which works without
// JavaScript) so that a phone shows the first offers first; a wide screen has room for them, so they start open.
(function () {
  var fold = document.querySelector('details.filters-fold');
  if (fold && window.matchMedia && window.matchMedia('(min-width: 48em)').matches) { fold.open = true; }
})();
