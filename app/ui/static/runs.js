/**
 * Follows a run on its page (or the Runs page): its output, the cards of running and failed tasks, the timeline
 * and the system statistics, from the run's event stream (app/ui/runs.py). The stream starts with the first event
 * of the run, so that a page opened late (or reloaded, or in a second browser) shows all of it and then goes on
 * live. Times come from the events (the server's clock), so that a late page draws the timeline as it happened.
 *
 * Uses mara's drawTimelineChart, nodeLinks and formatNodeOutput, and SystemStatsChart (charts/system-stats-chart.js).
 *
 * @param options.eventsUrl  the run's event stream
 * @param options.baseUrl    the url of the pipelines pages
 * @param options.nodePath   the path of the run's pipeline
 * @param options.serverTime the server's time when it rendered the page (ms), to tell the browser's clock offset
 * @param options.reloadWhenFinished whether to load the page again when the run has finished (the Runs page)
 * @param options.progressPrefix how the progress lines of a step over many days start (app/pipelines/progress.py):
 *                               the latest of each running step is shown in the header
 */
function followRun(options) {
    var output = $('#main-output-area');
    var level = options.nodePath.length;
    var clockOffset = Date.now() - options.serverTime;
    var nodes = {};
    var cards = {};
    var statistics = document.getElementById('system-stats-chart') ? new SystemStatsChart('system-stats-chart') : null;
    var finished = false;
    var scrollPending = false;
    var progress = {};  // the latest progress line of each step that has not finished, by the step's path

    function drawProgress() {
        $('#run-progress').empty().append(Object.keys(progress).sort().map(function (name) {
            return $('<div/>').text(name + ': ' + progress[name]);
        }));
    }

    function showProgress(event) {
        var step = event.node_path.slice(level, -1).join(' / ');  // the step of the task that printed it
        var text = event.message.slice(options.progressPrefix.length);
        if (/, done$/.test(text)) {
            delete progress[step];
        } else {
            progress[step] = text;
        }
        drawProgress();
    }

    function nodeId(path) {
        return 'node-' + path.join('_');
    }

    function serverNow() {
        return new Date(Date.now() - clockOffset);
    }

    function atBottom(element) {
        return element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    }

    function scrollSoon() {
        if (!scrollPending) {
            scrollPending = true;
            window.requestAnimationFrame(function () {
                scrollPending = false;
                output.scrollTop(output[0].scrollHeight);
            });
        }
    }

    function redraw() {
        var now = serverNow();
        var shown = Object.values(nodes).map(function (node) {
            return $.extend({}, node, {end: node.end || now});
        });
        drawTimelineChart('timeline-chart', shown);
        for (var id in cards) {
            var seconds = Math.max(0, Math.floor((now - nodes[id].start) / 1000));
            cards[id].find('.card-header-right').text(seconds + ' seconds');
        }
        if (!finished) {
            setTimeout(function () { window.requestAnimationFrame(redraw); }, 1000);
        }
    }

    var source = new EventSource(options.eventsUrl);

    function on(name, handler) {
        source.addEventListener(name, function (message) { handler(JSON.parse(message.data)); });
    }

    on('Output', function (event) {
        if (event.message.indexOf(options.progressPrefix) === 0) {
            showProgress(event);
        }
        var follow = atBottom(output[0]);
        var message = formatNodeOutput(event.message, event.format, event.is_error);
        output.append($('<div/>').append(nodeLinks(options.baseUrl, event.node_path, level, true)).append(message.clone()));
        var id = nodeId(event.node_path);
        if (id in cards) {
            var cardOutput = cards[id].find('.run-output');
            cardOutput.append($('<div/>').append(message));
            cardOutput.scrollTop(cardOutput[0].scrollHeight);
        }
        if (follow) {
            scrollSoon();
        }
    });

    on('NodeStarted', function (event) {
        if (event.node_path.length == level) {
            return;
        }
        var id = nodeId(event.node_path);
        nodes[id] = {label: event.node_path.slice(level).join(' / '), status: 'running',
                     type: event.is_pipeline ? 'pipeline' : 'task', url: options.baseUrl + '/' + event.node_path.join('/'),
                     start: new Date(event.start_time), end: null};
        if (!event.is_pipeline) {
            var card = $('#card-template').clone().attr('id', id);
            card.find('.card-header-left').empty().append(nodeLinks(options.baseUrl, event.node_path, level, false));
            $('#running-tasks-container').append(card);
            card.show();
            cards[id] = card;
        }
    });

    on('NodeFinished', function (event) {
        var id = nodeId(event.node_path);
        if (!(id in nodes)) {
            return;
        }
        nodes[id].status = event.succeeded ? 'succeeded' : 'failed';
        nodes[id].end = new Date(event.end_time);
        if (id in cards) {
            var card = cards[id].detach();
            delete cards[id];
            if (!event.succeeded) {
                card.find('.card-header-right').text('failed').css('color', 'red');
                $('#failed-tasks-container').append(card);
            }
        }
    });

    on('SystemStatistics', function (event) {
        if (statistics) {
            statistics.addMeasurements([[event.timestamp, event.cpu_usage, event.disc_read, event.disc_write,
                                         event.net_recv, event.net_sent, event.mem_usage, event.swap_usage, event.iowait]]);
        }
    });

    on('RunSummary', function (event) {
        $('#run-status').text(event.outcome).css('color', event.outcome == 'succeeded' ? 'green'
                                                         : event.outcome == 'cancelled' ? '#c60' : 'red');
        $('#run-summary').text(event.reason || '');
    });

    on('RunFinished', function (event) {
        finished = true;
        source.close();
        for (var id in cards) {  // stopped while they ran
            cards[id].detach();
            nodes[id].status = 'failed';
            nodes[id].end = new Date(event.end_time);
        }
        cards = {};
        if ($('#run-status').text() == 'running') {
            $('#run-status').text(event.succeeded ? 'succeeded' : 'failed').css('color', event.succeeded ? 'green' : 'red');
        }
        for (var step in progress) {  // a step that did not get to its end
            progress[step] = progress[step].replace(/, about .* left$/, ', stopped');
        }
        drawProgress();
        $('#cancel-form').hide();
        $('body').addClass('run-finished');
        redraw();
        if (options.reloadWhenFinished) {
            setTimeout(function () { window.location.reload(); }, 2000);
        }
    });

    // a broken stream reconnects by itself (EventSource), from the last event it got (Last-Event-ID)

    redraw();

    function resize() {
        if (output.hasClass('run-page-output')) {
            output.css('height', Math.max(300, $(window).height() - output.offset().top - 40));
        }
    }
    $(window).resize(resize);
    resize();
}
