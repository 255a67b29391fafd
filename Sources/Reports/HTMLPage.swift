import Viz

/// The frame of the HTML reports: one self-contained page — styles and the small sort script
/// inline, no fonts, images or scripts from elsewhere — so it opens offline, from a mail
/// attachment or a cluster's file browser as well as from disk.
enum HTMLPage {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Markup.escaped(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)
        <script>
        \(sortScript)
        </script>
        </body>
        </html>

        """
    }

    private static let style = """
        body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 1.5rem auto;
               max-width: 90rem; padding: 0 1rem; line-height: 1.45; }
        h1 { font-size: 1.6rem; margin-bottom: .2rem; }
        h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
        nav a { margin-right: 1rem; }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
        .table-scroll { overflow-x: auto; }
        table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
        caption, .caption { text-align: left; font-size: .85rem; color: #444; max-width: 80rem; }
        caption { caption-side: top; padding-bottom: .3rem; }
        th, td { padding: .3rem .6rem; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
        thead th { background: #dfe7f2; border-bottom: 2px solid #8a9bb0; font-weight: 600; }
        tbody th { font-weight: normal; }
        .left { text-align: left; }
        .right { text-align: right; }
        table.js-sortable thead th { cursor: pointer; }
        thead th[aria-sort="descending"]::after { content: " \\25BC"; }
        thead th[aria-sort="ascending"]::after { content: " \\25B2"; }
        .warning { background: #fff4e5; border-left: 4px solid #f0a020; padding: .4rem .6rem; }
        figure { margin: 1rem 0; }
        figure svg { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
        figcaption { font-size: .85rem; color: #444; }
        details { border: 1px solid #d0d7de; border-radius: 4px; margin: .3rem 0; padding: .3rem .6rem; }
        summary { cursor: pointer; }
        table.settings td { white-space: normal; word-break: break-word; text-align: left; }
        table.settings td:first-child { color: #555; white-space: nowrap; }
        """

    /// Clicking (or Enter on) a column header sorts the rows by the cells' `data-value` —
    /// best first for numbers, missing values last either way — or by text; again reverses.
    private static let sortScript = """
        (function () {
          function number(row, column) {
            var value = row.cells[column] ? row.cells[column].getAttribute('data-value') : null;
            return value === null ? null : parseFloat(value);
          }
          document.querySelectorAll('table.sortable').forEach(function (table) {
            var headers = table.tHead.rows[0].cells;
            var body = table.tBodies[0];
            table.classList.add('js-sortable');
            Array.prototype.forEach.call(headers, function (header, column) {
              header.tabIndex = 0;
              function sort() {
                var rows = Array.prototype.slice.call(body.rows);
                var numeric = rows.some(function (row) { return number(row, column) !== null; });
                var current = header.getAttribute('aria-sort');
                var descending = current ? current === 'ascending' : numeric;
                Array.prototype.forEach.call(headers, function (other) { other.removeAttribute('aria-sort'); });
                header.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
                rows.sort(function (a, b) {
                  if (!numeric) {
                    var order = a.cells[column].textContent.localeCompare(b.cells[column].textContent);
                    return descending ? -order : order;
                  }
                  var x = number(a, column), y = number(b, column);
                  if (x === null || y === null) { return (x === null) - (y === null); }
                  return descending ? y - x : x - y;
                });
                rows.forEach(function (row) { body.appendChild(row); });
              }
              header.addEventListener('click', sort);
              header.addEventListener('keydown', function (event) {
                if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); }
              });
            });
          });
        })();
        """
}
