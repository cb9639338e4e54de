// "Copier" buttons of the export page: copy the textarea named by data-copy to the clipboard. Hidden without
// JavaScript (the text can still be selected by hand); shown here, once the script can serve them.
(function () {
  function copy(area) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(area.value);
    }
    // Plain http on a LAN address: no Clipboard API, the selection command still works.
    area.select();
    return document.execCommand('copy') ? Promise.resolve() : Promise.reject(new Error('copy'));
  }

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var area = document.getElementById(button.getAttribute('data-copy'));
    var status = button.parentNode.querySelector('.copy-status');
    if (!area) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      copy(area).then(function () {
        status.textContent = 'Copié dans le presse-papiers.';
      }, function () {
        area.select();
        status.textContent = 'Copie impossible : le texte est sélectionné, faites Ctrl+C.';
      });
    });
  });
})();
