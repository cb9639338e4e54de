// The territory field as a combobox with a listbox popup (WAI-ARIA Authoring Practices, "list autocomplete"):
// suggestions from GET /api/v1/territoires?q= as one types, arrows / Home / End to move, Enter to choose, Escape to
// close then clear; chosen territories become chips (a hidden input name=code and a "Retirer …" button each).
// Without this script the same field is a text input that the server resolves (Pages/Shared/_TerritoryField.cshtml).
(function () {
  'use strict';
  if (!window.fetch || !document.querySelector) { return; }

  var LEVELS = { pays: 'Pays', region: 'Région', departement: 'Département', epci: 'Intercommunalité', commune: 'Commune' };
  var counter = 0;

  function labelOf(t) {
    if (t.label) { return String(t.label); }
    return t.level === 'pays' || t.level === 'region' ? String(t.name) : t.name + ' (' + t.code + ')';
  }

  // The API may add a département or région (a name, or an object with one): shown when present, never required.
  function placeOf(value) {
    if (!value) { return ''; }
    if (typeof value === 'string') { return value; }
    return value.name || value.nom || value.label || '';
  }

  function detailOf(t) {
    var level = LEVELS[t.level] || t.levelLabel || '';
    var place = t.level === 'commune' || t.level === 'epci' ? placeOf(t.departement) || placeOf(t.departementName) : '';
    return place && level ? level + ', ' + place : level;
  }

  function plural(n, one, many) { return n + ' ' + (n > 1 ? many : one); }

  function Field(root) {
    this.root = root;
    this.multiple = root.getAttribute('data-multiple') !== 'false';
    this.api = root.getAttribute('data-api') || '/api/v1/territoires';
    this.input = root.querySelector('input[type=text]');
    this.name = this.input.getAttribute('name');
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.request = 0;
    this.lastQuery = null;
    this.setUp();
  }

  Field.prototype.setUp = function () {
    var self = this;
    var id = this.input.id || ('territoire-champ-' + (++counter));
    this.input.id = id;

    this.listbox = document.createElement('ul');
    this.listbox.id = id + '-liste';
    this.listbox.className = 'territory-listbox';
    this.listbox.setAttribute('role', 'listbox');
    var label = this.root.querySelector('label[for="' + id + '"]');
    if (label) {
      label.id = label.id || id + '-libelle';
      this.listbox.setAttribute('aria-labelledby', label.id);
    }
    this.listbox.hidden = true;
    this.input.parentNode.appendChild(this.listbox);

    this.input.setAttribute('role', 'combobox');
    this.input.setAttribute('aria-autocomplete', 'list');
    this.input.setAttribute('aria-expanded', 'false');
    this.input.setAttribute('aria-controls', this.listbox.id);

    // Polite: counts and choices are announced without interrupting what is being typed. aria-live alone, not
    // role=status, which the pages keep for their own confirmations.
    this.status = document.createElement('div');
    this.status.className = 'visually-hidden territory-status';
    this.status.setAttribute('aria-live', 'polite');
    this.status.setAttribute('aria-atomic', 'true');
    this.root.appendChild(this.status);

    // The server's ticked boxes become chips.
    this.chips = this.root.querySelector('.territory-chips');
    var boxes = this.chips ? this.chips.querySelectorAll('input[type=checkbox]') : [];
    var chosen = [];
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) { chosen.push({ code: boxes[i].value, label: boxes[i].getAttribute('data-label') || boxes[i].value }); }
    }
    if (this.chips) { this.chips.textContent = ''; }
    chosen.forEach(function (t) { self.addChip(t, false); });

    this.input.addEventListener('input', function () { self.onInput(); });
    this.input.addEventListener('keydown', function (e) { self.onKeyDown(e); });
    this.input.addEventListener('blur', function () { self.close(); });
    this.listbox.addEventListener('mousedown', function (e) { e.preventDefault(); });
    this.listbox.addEventListener('click', function (e) {
      var option = e.target.closest ? e.target.closest('[role=option]') : null;
      if (option) { self.choose(Number(option.getAttribute('data-index'))); }
    });

    // An empty text box sends nothing: only the chips' codes reach the server.
    var form = this.input.form;
    if (form) {
      form.addEventListener('submit', function () {
        if (self.input.value.trim() === '') {
          self.input.removeAttribute('name');
          setTimeout(function () { self.input.setAttribute('name', self.name); }, 0);
        }
      });
    }
  };

  Field.prototype.chosenCodes = function () {
    var codes = [];
    if (!this.chips) { return codes; }
    var hidden = this.chips.querySelectorAll('input[type=hidden]');
    for (var i = 0; i < hidden.length; i++) { codes.push(hidden[i].value.toUpperCase()); }
    return codes;
  };

  Field.prototype.ensureChipList = function () {
    if (this.chips) { return; }
    this.chips = document.createElement('ul');
    this.chips.className = 'territory-chips';
    this.chips.setAttribute('aria-label', this.multiple ? 'Territoires choisis' : 'Territoire choisi');
    this.root.insertBefore(this.chips, this.status);
  };

  Field.prototype.addChip = function (t, announce) {
    var self = this;
    this.ensureChipList();
    var item = document.createElement('li');
    var hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = this.name;
    hidden.value = t.code;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    var verb = document.createElement('span');
    verb.className = 'visually-hidden';
    verb.textContent = 'Retirer ';
    var cross = document.createElement('span');
    cross.setAttribute('aria-hidden', 'true');
    cross.className = 'chip-cross';
    cross.textContent = '×';
    button.appendChild(verb);
    button.appendChild(document.createTextNode(t.label));
    button.appendChild(cross);
    button.addEventListener('click', function () { self.removeChip(item, t.label); });
    item.appendChild(hidden);
    item.appendChild(button);
    this.chips.appendChild(item);
    if (announce) {
      var count = this.chosenCodes().length;
      this.say(this.multiple ? t.label + ' ajouté. ' + plural(count, 'territoire choisi', 'territoires choisis') + '.' : t.label + ' choisi.');
    }
  };

  Field.prototype.removeChip = function (item, label) {
    // Focus goes to the next chip, else the previous one, else back to the text box: never lost on the page.
    var next = item.nextElementSibling || item.previousElementSibling;
    item.parentNode.removeChild(item);
    var count = this.chosenCodes().length;
    this.say(label + ' retiré. ' + (count === 0 ? 'Aucun territoire choisi.' : plural(count, 'territoire choisi', 'territoires choisis') + '.'));
    if (next) { next.querySelector('button').focus(); } else { this.input.focus(); }
  };

  Field.prototype.say = function (text) {
    // Emptied first so that the same sentence twice is announced twice.
    var status = this.status;
    status.textContent = '';
    setTimeout(function () { status.textContent = text; }, 50);
  };

  Field.prototype.onInput = function () {
    var self = this;
    clearTimeout(this.timer);
    var q = this.input.value.trim();
    if (q.length === 0) {
      this.items = [];
      this.close();
      return;
    }
    this.timer = setTimeout(function () { self.search(q, false); }, 150);
  };

  Field.prototype.search = function (q, moveToFirst) {
    var self = this;
    var ticket = ++this.request;
    fetch(this.api + (this.api.indexOf('?') < 0 ? '?' : '&') + 'q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        // A slower answer to an older text never replaces the newer one.
        if (ticket !== self.request || self.input.value.trim() !== q) { return; }
        var taken = self.chosenCodes();
        self.items = (Array.isArray(items) ? items : []).filter(function (t) {
          return t && t.code && taken.indexOf(String(t.code).toUpperCase()) < 0;
        });
        self.lastQuery = q;
        self.render();
        if (self.items.length > 0) {
          self.open();
          if (moveToFirst) { self.activate(0); }
          self.say(plural(self.items.length, 'territoire proposé', 'territoires proposés') + ' : flèches haut et bas pour parcourir, Entrée pour choisir.');
        } else {
          self.close();
          self.say('Aucun territoire ne correspond à « ' + q + ' ».');
        }
      })
      .catch(function () { /* the text box still works: the server resolves what was typed */ });
  };

  Field.prototype.render = function () {
    var self = this;
    this.listbox.textContent = '';
    this.active = -1;
    this.input.removeAttribute('aria-activedescendant');
    this.items.forEach(function (t, i) {
      var option = document.createElement('li');
      option.id = self.listbox.id + '-' + i;
      option.className = 'territory-option';
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      option.setAttribute('data-index', String(i));
      var name = document.createElement('span');
      name.className = 'territory-option-label';
      name.textContent = labelOf(t);
      option.appendChild(name);
      var detail = detailOf(t);
      if (detail) {
        var small = document.createElement('span');
        small.className = 'territory-detail';
        small.textContent = ' — ' + detail;
        option.appendChild(small);
      }
      self.listbox.appendChild(option);
    });
  };

  Field.prototype.isOpen = function () { return !this.listbox.hidden; };

  Field.prototype.open = function () {
    this.listbox.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  };

  Field.prototype.close = function () {
    this.listbox.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    this.setActive(-1);
  };

  Field.prototype.setActive = function (index) {
    var options = this.listbox.querySelectorAll('[role=option]');
    for (var i = 0; i < options.length; i++) {
      var on = i === index;
      options[i].setAttribute('aria-selected', on ? 'true' : 'false');
      options[i].classList.toggle('active', on);
    }
    this.active = index;
  };

  Field.prototype.activate = function (index) {
    if (this.items.length === 0) { return; }
    var n = this.items.length;
    index = ((index % n) + n) % n;
    this.setActive(index);
    var option = document.getElementById(this.listbox.id + '-' + index);
    this.input.setAttribute('aria-activedescendant', option.id);
    if (option.scrollIntoView) { option.scrollIntoView({ block: 'nearest' }); }
  };

  // Opens the list for the current text (fetching it if needed) and moves to its first or last option.
  Field.prototype.openAt = function (last) {
    var q = this.input.value.trim();
    if (q.length === 0) { return; }
    if (this.lastQuery === q && this.items.length > 0) {
      this.open();
      this.activate(last ? this.items.length - 1 : 0);
    } else {
      clearTimeout(this.timer);
      this.search(q, true);
    }
  };

  Field.prototype.choose = function (index) {
    var t = this.items[index];
    if (!t) { return; }
    if (!this.multiple && this.chips) { this.chips.textContent = ''; }
    this.addChip({ code: String(t.code), label: labelOf(t) }, true);
    this.input.value = '';
    this.items = [];
    this.lastQuery = null;
    this.close();
    this.input.focus();
  };

  Field.prototype.onKeyDown = function (e) {
    if (e.altKey && e.key === 'ArrowDown') {
      e.preventDefault();
      if (!this.isOpen()) { this.openAt(false); }
      return;
    }
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (this.isOpen()) { this.activate(this.active + 1); } else { this.openAt(false); }
        break;
      case 'ArrowUp':
        e.preventDefault();
        if (this.isOpen()) { this.activate(this.active < 0 ? this.items.length - 1 : this.active - 1); } else { this.openAt(true); }
        break;
      case 'Home':
      case 'End':
        // In the list they move to its first or last option; otherwise the caret moves in the text, as usual.
        if (this.isOpen() && this.active >= 0) {
          e.preventDefault();
          this.activate(e.key === 'Home' ? 0 : this.items.length - 1);
        }
        break;
      case 'Enter':
        if (this.isOpen() && this.active >= 0) {
          e.preventDefault();
          this.choose(this.active);
        } else if (this.isOpen()) {
          // Enter with the list open but nothing highlighted: take the first suggestion rather than submit half-typed text.
          e.preventDefault();
          this.choose(0);
        }
        break;
      case 'Escape':
        if (this.isOpen()) {
          e.preventDefault();
          this.close();
        } else if (this.input.value !== '') {
          e.preventDefault();
          this.input.value = '';
          this.items = [];
          this.lastQuery = null;
        }
        break;
      case 'Tab':
        this.close();
        break;
      default:
        break;
    }
  };

  function start() {
    var roots = document.querySelectorAll('[data-territory-field]');
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].querySelector('input[type=text]')) { new Field(roots[i]); }
    }
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
