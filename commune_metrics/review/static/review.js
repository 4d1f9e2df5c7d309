// The review page's only script (CSP: script-src 'self'): choose a fact with the keyboard or the
// mouse, see its evidence marked in the text and on the page image, confirm / correct / reject.
// Every write sends the page's CSRF token; the server re-renders the changed row (escaped HTML).
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var flash = document.getElementById('flash');
  var image = document.getElementById('page-image');
  var figure = document.getElementById('page-figure');
  var correctForm = document.getElementById('correct-form');
  var rejectForm = document.getElementById('reject-form');
  var help = document.getElementById('help');
  var showDoc = !document.body.classList.contains('document');
  var current = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll('tr.fact')); }

  function say(text, kind) {
    if (!flash) { return; }
    flash.textContent = text;
    flash.className = kind || '';
  }

  function marksOf(id) {
    return Array.prototype.filter.call(document.querySelectorAll('mark.ev'), function (m) {
      return (m.getAttribute('data-facts') || '').split(' ').indexOf(id) >= 0;
    });
  }

  function select(row, scroll) {
    if (!row) { return; }
    rows().forEach(function (r) { r.classList.remove('current'); });
    document.querySelectorAll('mark.ev.current').forEach(function (m) { m.classList.remove('current'); });
    row.classList.add('current');
    current = row;
    var id = row.getAttribute('data-fact-id');
    var marks = marksOf(id);
    marks.forEach(function (m) { m.classList.add('current'); });
    if (scroll !== false) {
      row.scrollIntoView({block: 'nearest'});
      if (marks.length) { marks[0].scrollIntoView({block: 'center'}); }
    }
    if (image && figure) {
      var page = row.getAttribute('data-page');
      if (page) {
        figure.hidden = false;
        image.src = '/page.png?doc=' + encodeURIComponent(row.getAttribute('data-doc')) + '&page=' +
          encodeURIComponent(page) + '&fact=' + encodeURIComponent(id);
      } else {
        figure.hidden = true;
      }
    }
    if (history.replaceState) { history.replaceState(null, '', '#f-' + id); }
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var i = current ? all.indexOf(current) : -1;
    select(all[Math.max(0, Math.min(all.length - 1, i + step))]);
  }

  function closeForms() {
    [correctForm, rejectForm].forEach(function (f) { if (f) { f.hidden = true; } });
  }

  function post(body, row) {
    body.show_doc = showDoc;
    say('Đang lưu…', '');
    return fetch('/api/action', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) { say(json.message || 'Lỗi', 'error'); return false; }
        if (json.row) {
          var holder = document.createElement('tbody');
          holder.innerHTML = json.row;  // rendered and escaped by the server
          var fresh = holder.firstElementChild;
          if (fresh) {
            row.parentNode.replaceChild(fresh, row);
            current = fresh;
            select(fresh, false);
          }
        }
        say(json.message, json.status);
        return true;
      });
    }).catch(function () { say('Không kết nối được máy chủ rà soát', 'error'); return false; });
  }

  function act(action, extra) {
    if (!current) { return; }
    var body = {fact_id: current.getAttribute('data-fact-id'), action: action, why: ''};
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    var row = current;
    post(body, row).then(function (ok) { if (ok) { closeForms(); move(1); } });
  }

  function openCorrect() {
    if (!current || !correctForm) { return; }
    closeForms();
    var value = current.getAttribute('data-value') || current.getAttribute('data-original') || '';
    document.getElementById('f-value').value = value ? String(Number(value)).replace('.', ',') : '';
    document.getElementById('f-metric').value = current.getAttribute('data-metric');
    document.getElementById('f-kind').value = current.getAttribute('data-kind');
    document.getElementById('f-scope').value = current.getAttribute('data-scope') || 'self';
    document.getElementById('f-why').value = '';
    document.getElementById('correct-fact').textContent = current.getAttribute('data-fact-id');
    correctForm.hidden = false;
    document.getElementById('f-value').focus();
    document.getElementById('f-value').select();
  }

  function openReject() {
    if (!current || !rejectForm) { return; }
    closeForms();
    document.getElementById('r-why').value = '';
    document.getElementById('reject-fact').textContent = current.getAttribute('data-fact-id');
    rejectForm.hidden = false;
    document.getElementById('r-why').focus();
  }

  if (correctForm) {
    correctForm.addEventListener('submit', function (e) {
      e.preventDefault();
      var extra = {why: document.getElementById('f-why').value};
      var value = document.getElementById('f-value').value.trim();
      var shown = current.getAttribute('data-value') || current.getAttribute('data-original') || '';
      if (value && (!shown || Number(value.replace(/\./g, '').replace(',', '.')) !== Number(shown))) {
        extra.value = value;
      }
      ['metric', 'kind', 'scope'].forEach(function (name) {
        var chosen = document.getElementById('f-' + name).value;
        var was = current.getAttribute('data-' + name) || (name === 'scope' ? 'self' : '');
        if (chosen && chosen !== was) { extra[name] = chosen; }
      });
      act('correct', extra);
    });
  }
  if (rejectForm) {
    rejectForm.addEventListener('submit', function (e) {
      e.preventDefault();
      act('reject', {why: document.getElementById('r-why').value});
    });
  }
  document.querySelectorAll('form.panel .cancel').forEach(function (b) {
    b.addEventListener('click', closeForms);
  });

  document.addEventListener('click', function (e) {
    var row = e.target.closest ? e.target.closest('tr.fact') : null;
    if (row && !(e.target.tagName === 'A')) { select(row, false); return; }
    var mark = e.target.closest ? e.target.closest('mark.ev') : null;
    if (mark) {
      var id = (mark.getAttribute('data-facts') || '').split(' ')[0];
      select(document.getElementById('f-' + id));
    }
  });

  document.addEventListener('keydown', function (e) {
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === 'Escape') { closeForms(); if (help) { help.hidden = true; } return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var handled = true;
    switch (e.key) {
      case 'j': case 'ArrowDown': move(1); break;
      case 'k': case 'ArrowUp': move(-1); break;
      case 'c': act('confirm'); break;
      case 'e': openCorrect(); break;
      case 'r': openReject(); break;
      case 'u': act('revert'); break;
      case 'o':
        if (current) {
          location.href = '/doc/' + encodeURIComponent(current.getAttribute('data-doc')) + '#f-' +
            encodeURIComponent(current.getAttribute('data-fact-id'));
        }
        break;
      case '?': if (help) { help.hidden = !help.hidden; } break;
      default: handled = false;
    }
    if (handled) { e.preventDefault(); }
  });

  var start = location.hash.indexOf('#f-') === 0 ? document.getElementById(location.hash.slice(1)) : null;
  select(start || rows()[0], Boolean(start));
  document.body.setAttribute('data-ready', '1');
}());
