/* Workarounds for bugs in the browser code of the pinned mara packages (see Bug 7 in app/mara_fixes.py).
 *
 * mara-pipelines 3.5.0: the run page hides its "Run again" button during a run with the style
 * `span.action-buttons > *` and shows it on RunFinished with the same selector, but mara-app renders the
 * header's buttons in a div. So "Run again" is visible during the run, and clicking it reloads the page,
 * which ends the run that is in progress. Here the buttons are hidden while the run's event stream is open.
 */
(function () {
    var OriginalEventSource = window.EventSource;
    if (!OriginalEventSource) {
        return;
    }

    function setHeaderButtonsDisplay(display) {
        document.querySelectorAll('#mara-page-header > .action-buttons > *').forEach(function (button) {
            button.style.display = display;
        });
    }

    function RunAwareEventSource(url, options) {
        var source = new OriginalEventSource(url, options);
        if (/\/do-run(-with-upstreams)?(\/|$)/.test(url)) {
            setHeaderButtonsDisplay('none');
            var showButtons = function () { setHeaderButtonsDisplay(''); };
            source.addEventListener('RunFinished', showButtons);
            source.addEventListener('error', showButtons);  // the stream broke: let the user start again
        }
        return source;
    }

    RunAwareEventSource.prototype = OriginalEventSource.prototype;
    ['CONNECTING', 'OPEN', 'CLOSED'].forEach(function (state) {
        RunAwareEventSource[state] = OriginalEventSource[state];
    });
    window.EventSource = RunAwareEventSource;
})();
