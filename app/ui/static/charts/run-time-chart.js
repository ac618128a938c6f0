/**
 * The run times of a pipeline node and of its slowest children (up to 8), one point per run; the lines are dashed
 * towards failed runs, and a click on a point shows that run in the "Last runs" card below.
 *
 * Replaces mara-pipelines' run-time-chart.js (app/wiring.py) with the same call, which mara's run_time_chart
 * view renders:
 * @param divId       the id of the element to draw in (the view sets its height)
 * @param nodeUrlPath the url path of the node, e.g. 'pypi/read_download_counts' ('' for the root pipeline)
 * @param runs        the rows of mara's run_time_chart.sql, oldest first: {run_id, start_time (ISO), node_name,
 *                    node_run, child_names, child_runs}. node_run and each child run (in the order of child_names)
 *                    are {duration (seconds), succeeded}, or null where the node did not run; child_names and
 *                    child_runs are null for a node without children.
 *
 * Uses common.js, mara's formatDuration and durationAxisTicks (utils.js), KolorWheel and nodePage (node pages).
 */
function drawRunTimeChart(divId, nodeUrlPath, runs) {
    'use strict';
    var TICK_DISTANCE = 40;  // pixels between labels of the duration axis at least
    var LABEL_ROOM = 18;  // pixels above the highest duration, for its label
    var PAGE_HEADER = 73;  // the height of mara's fixed page header, which must not cover the "Last runs" card
    var names = [runs[0].node_name].concat(runs[0].child_names || []);
    var childColors = names.length > 1 ? new KolorWheel('#008800').rel(-50, -100, 40, names.length - 1) : null;

    var datasets = names.map(function (name, series) {
        var color = series === 0 ? '#0275d8' : childColors.get(series - 1).getHex();
        var points = runs.map(function (run) {
            var nodeRun = series === 0 ? run.node_run : (run.child_runs || [])[series - 1];
            return {x: Date.parse(run.start_time), y: nodeRun ? nodeRun.duration : null, runId: run.run_id,
                    succeeded: nodeRun ? nodeRun.succeeded : null};
        });
        var failed = function (index) { return points[index].succeeded === false; };
        return {
            label: name, data: points, borderColor: color, backgroundColor: color, borderWidth: series === 0 ? 1.5 : 1,
            spanGaps: true,  // across runs in which the node did not run
            segment: {borderDash: function (line) {
                return failed(line.p0DataIndex) || failed(line.p1DataIndex) ? [4, 4] : undefined;
            }}
        };
    });

    var longest = Math.max.apply(null, datasets.map(function (dataset) {
        return Math.max.apply(null, dataset.data.map(function (point) { return point.y || 0; }));
    }));
    var height = $('#' + divId).innerHeight() - LABEL_ROOM;  // also while the content fades in (display: none)
    var ticks = durationAxisTicks(height, TICK_DISTANCE, 1000 * longest).map(function (tick) {
        return {value: tick[1] / 1000, label: tick[2]};
    });

    lineChart(divId, datasets, {
        layout: {padding: {top: LABEL_ROOM, right: 4}},
        interaction: {mode: 'nearest', intersect: false},
        scales: {
            y: {
                min: 0, max: ticks[ticks.length - 1].value, grid: {display: false}, border: {display: false},
                afterBuildTicks: function (scale) {
                    scale.ticks = ticks.map(function (tick) { return {value: tick.value}; });
                },
                ticks: {
                    mirror: true, labelOffset: -10, padding: -2,  // inside the plot, just above their duration
                    callback: function (value, index) { return ticks[index].label; }
                }
            }
        },
        plugins: {
            legend: {display: false},
            tooltip: {callbacks: {label: function (item) {
                var point = item.raw;
                return item.dataset.label + ': ' + (point.succeeded ? 'succeeded' : 'failed') + ', '
                    + formatDuration(Math.round(1000 * point.y));  // in whole milliseconds
            }}}
        },
        onClick: function (event, elements, chart) {
            if (elements.length) {
                nodePage.switchRun(chart.data.datasets[elements[0].datasetIndex].data[elements[0].index].runId,
                                   nodeUrlPath);
                $('html, body').animate({scrollTop: $('#last-runs-card').offset().top - PAGE_HEADER, scrollLeft: 0});
            }
        }
    });
}
