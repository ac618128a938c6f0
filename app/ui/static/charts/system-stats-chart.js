/**
 * CPU, memory, swap and IO wait in % (hidden left axis), disc and network throughput in MB/s (hidden right axis),
 * during a run; one tooltip names all of them at a moment.
 *
 * Replaces mara-pipelines' system-stats-chart.js (app/wiring.py) with the same interface:
 *     var chart = new SystemStatsChart(divId);  // draws in the element with that id
 *     chart.addMeasurements(rows);             // any number of times: the node pages once, runs.js per event
 * Each row is [time (ISO string or ms), cpu, disc read, disc write, net in, net out, mem, swap, iowait], null for
 * what was not measured: the order of app/ui/runs.py's `_system_stats` and of runs.js.
 *
 * Uses common.js.
 */
var SystemStatsChart = function (divId) {
    'use strict';
    var DOTTED = [2, 2], DASHED = [6, 4];
    var MEASURES = [  // in the order of the columns after the time: label, unit, color, line width, dashes
        ['CPU', '%', '#0275d8', 1.5, []],
        ['Disc read', 'MB/s', '#008800', 1, DOTTED],
        ['Disc write', 'MB/s', '#008800', 1, DASHED],
        ['Net in', 'MB/s', '#880000', 1, DOTTED],
        ['Net out', 'MB/s', '#880000', 1, DASHED],
        ['Mem', '%', '#008800', 1, []],
        ['Swap', '%', 'pink', 1, []],
        ['IOWait', '%', 'cyan', 1, DOTTED]
    ];
    var hiddenAxis = {axis: 'y', display: false, min: 0, grace: '5%'};

    var chart = lineChart(divId, MEASURES.map(function (measure) {
        return {label: measure[0], unit: measure[1], yAxisID: measure[1] === '%' ? 'percent' : 'throughput',
                borderColor: measure[2], backgroundColor: measure[2], borderWidth: measure[3], borderDash: measure[4],
                data: []};
    }), {
        interaction: {mode: 'index', intersect: false},
        scales: {x: {time: {tooltipFormat: 'HH:mm:ss.S'}},  // measured several times a second
                 percent: Object.assign({position: 'left'}, hiddenAxis),
                 throughput: Object.assign({position: 'right'}, hiddenAxis)},
        plugins: {
            legend: {position: 'top', labels: {
                usePointStyle: true, pointStyle: 'line', boxHeight: 8,
                generateLabels: function (chart) {  // each a short piece of its line, dashed as the line
                    return Chart.defaults.plugins.legend.labels.generateLabels(chart).map(function (item) {
                        return Object.assign(item, {lineDash: chart.data.datasets[item.datasetIndex].borderDash});
                    });
                }
            }},
            tooltip: {
                filter: function (item) { return item.raw.y !== null; },
                callbacks: {label: function (item) {
                    return item.dataset.label + ': ' + item.raw.y.toFixed(1) + ' ' + item.dataset.unit;
                }}
            }
        }
    });

    var redrawing = false;

    function redrawSoon() {  // once per frame, however many measurements arrive
        if (!redrawing) {
            redrawing = true;
            window.requestAnimationFrame(function () {
                redrawing = false;
                chart.update();
            });
        }
    }

    return {
        /** Adds rows of measurements (see above) to the chart */
        addMeasurements: function (rows) {
            rows.forEach(function (row) {
                var time = typeof row[0] === 'number' ? row[0] : Date.parse(row[0]);
                chart.data.datasets.forEach(function (dataset, index) {
                    dataset.data.push({x: time, y: row[index + 1]});
                });
            });
            redrawSoon();
        }
    };
};
