/**
 * What the project's two charts (run-time-chart.js, system-stats-chart.js) share: mara's font and grey labels,
 * white tooltips, thin lines without markers, time axes labelled with the 24-hour clock, and `lineChart`, which
 * draws a chart in a container. app/wiring.py loads Chart.js, its date adapter and this file before the charts.
 */
(function (defaults) {
    'use strict';

    defaults.font.family = '"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif';
    defaults.font.size = 14;
    defaults.color = '#888';
    defaults.animation = false;  // the pages redraw the charts as measurements arrive
    defaults.maintainAspectRatio = false;  // the container has the height that mara gives it
    defaults.elements.point.radius = 0;
    defaults.elements.point.hoverRadius = 4;
    defaults.elements.point.hitRadius = 8;
    defaults.elements.line.cubicInterpolationMode = 'monotone';  // smooth, and never below 0
    Object.assign(defaults.plugins.tooltip, {
        backgroundColor: '#fff', borderColor: '#ccc', borderWidth: 1, titleColor: '#333', bodyColor: '#333',
        boxWidth: 10, boxHeight: 10
    });
    defaults.scales.time.time.displayFormats = {
        millisecond: 'HH:mm:ss.SSS', second: 'HH:mm:ss', minute: 'HH:mm', hour: 'HH:mm', day: 'MMM d',
        week: 'MMM d', month: 'MMM yyyy', quarter: 'MMM yyyy', year: 'yyyy'
    };
    defaults.scales.time.time.tooltipFormat = 'MMM d, yyyy, HH:mm:ss';
})(Chart.defaults);

/** A line chart in the element with id `divId` (in place of one drawn there before), with a time axis `x` */
function lineChart(divId, datasets, options) {
    'use strict';
    var container = document.getElementById(divId);
    container.style.position = 'relative';  // Chart.js sizes the canvas to its container
    var previous = container.querySelector('canvas');
    if (previous && Chart.getChart(previous)) {
        Chart.getChart(previous).destroy();
    }
    var canvas = document.createElement('canvas');
    container.replaceChildren(canvas);
    var x = {type: 'time', grid: {display: false}, border: {display: false},
             // where labels are left out for room, those at whole seconds, minutes, days stay (major ticks)
             ticks: {maxRotation: 0, autoSkipPadding: 24, major: {enabled: true}}};
    options.scales.x = Object.assign(x, options.scales.x);
    return new Chart(canvas, {type: 'line', data: {datasets: datasets}, options: options});
}
