// Search-as-you-type for the query box: the WAI-ARIA APG combobox with a list popup.
// Completions come from /api/suggest (the input's data-suggest). Arrow keys move through them
// (aria-activedescendant), Enter searches the one chosen, Escape closes the list; a click works
// too. Without this script the page is a plain form, unchanged.
(function () {
  "use strict";
  var DELAY_MS = 120;

  function setup(input) {
    var form = input.form;
    var list = document.createElement("ul");
    var status = document.createElement("span");
    var items = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var shownFor = null;

    list.id = input.id + "-goi-y";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Gợi ý tìm kiếm");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.parentNode.classList.add("has-suggestions");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
      } else {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      input.value = items[index].textContent;
      close();
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    }

    function show(typed, completions) {
      list.textContent = "";
      items = completions.map(function (text, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = text;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          choose(i);
        });
        list.appendChild(item);
        return item;
      });
      shownFor = typed;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      status.textContent = items.length ? items.length + " gợi ý; dùng phím mũi tên để chọn." : "";
    }

    function fetchFor(typed) {
      if (pending) {
        pending.abort();
      }
      if (typed.trim().length < 2) {
        show(typed, []);
        return;
      }
      pending = new AbortController();
      fetch(input.dataset.suggest + "?q=" + encodeURIComponent(typed), {
        signal: pending.signal,
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { completions: [] };
        })
        .then(function (data) {
          if (input.value === typed && document.activeElement === input) {
            show(typed, data.completions || []);
          }
        })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var typed = input.value;
      timer = setTimeout(function () {
        fetchFor(typed);
      }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) {
          if (items.length && shownFor === input.value) {
            list.hidden = false;
            input.setAttribute("aria-expanded", "true");
          } else {
            fetchFor(input.value);
          }
          return;
        }
        highlight(active + 1 < items.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active > 0 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });

    input.addEventListener("blur", close);
  }

  var input = document.querySelector("input[data-suggest]");
  if (input && window.fetch && window.AbortController) {
    setup(input);
  }
})();
