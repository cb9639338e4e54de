// Progressive enhancement: the territory field already works without JavaScript (the server resolves names and
// codes, and the datalist lists régions and départements). This refreshes the suggestions from the API as you type.
(function () {
  var input = document.querySelector('input[data-autocomplete]');
  if (!input || !window.fetch) { return; }
  var list = document.getElementById(input.getAttribute('list'));
  var timer = null;
  var last = '';
  input.addEventListener('input', function () {
    var q = input.value.trim();
    if (q.length < 2 || q === last || /\)$/.test(q)) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      last = q;
      fetch(input.getAttribute('data-autocomplete') + '?q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          if (!items.length) { return; }
          list.textContent = '';
          items.forEach(function (t) {
            var option = document.createElement('option');
            option.value = t.label;
            option.textContent = t.level === 'region' ? 'Région' : t.level === 'departement' ? 'Département' : t.name;
            list.appendChild(option);
          });
        })
        .catch(function () { /* the server-side list stays */ });
    }, 150);
  });
})();
