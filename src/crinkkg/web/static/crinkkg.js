// crinkkg: small conveniences only; every page works without this script.
(function () {
  "use strict";
  var editor = document.getElementById("query");
  var form = document.getElementById("query-form");
  if (editor && form) {
    editor.addEventListener("keydown", function (event) {
      // Ctrl+Enter (or Cmd+Enter) runs the query
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
      // Tab indents inside the editor; Escape then Tab leaves it (keyboard users)
      if (event.key === "Tab" && !event.shiftKey && editor.dataset.tabs !== "off") {
        event.preventDefault();
        var start = editor.selectionStart, end = editor.selectionEnd;
        editor.value = editor.value.slice(0, start) + "  " + editor.value.slice(end);
        editor.selectionStart = editor.selectionEnd = start + 2;
      }
      if (event.key === "Escape") { editor.dataset.tabs = "off"; }
    });
    editor.addEventListener("focus", function () { editor.dataset.tabs = "on"; });
    // put the caret on the line the server reported as wrong
    var marked = document.querySelector(".error-line");
    if (marked) {
      var line = parseInt(marked.getAttribute("value"), 10);
      var lines = editor.value.split("\n");
      var offset = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) { offset += lines[i].length + 1; }
      editor.focus();
      editor.setSelectionRange(offset, offset + (lines[line - 1] || "").length);
    }
  }
})();
