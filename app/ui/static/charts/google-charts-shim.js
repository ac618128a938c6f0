/**
 * Offline stand-in for the part of Google Charts that mara-pipelines uses, drawn with Chart.js.
 *
 * mara-pipelines' node and run pages load https://www.gstatic.com/charts/loader.js, which needs internet.
 * app/wiring.py serves chart.umd.min.js (Chart.js, see README.md) followed by this file instead.
 *
 * Implemented (exactly what mara_pipelines/ui/static/run-time-chart.js and system-stats-chart.js call):
 *
 *   google.charts.load(version, {packages: [...]})   packages are ignored: everything is here already
 *   google.charts.setOnLoadCallback(fn)               fn runs asynchronously, once the DOM is ready
 *   new google.visualization.DataTable()
 *       addColumn(type, label) / addColumn({type, label, role})   roles 'certainty' and 'tooltip' are used
 *       addRow(cells), addRows(rows)        cells are values or {v, f}; date/datetime cells take Date objects
 *                                           (ISO strings and epoch milliseconds are converted as well)
 *       getColumnRange(column)              {min, max} of the non-null values
 *       getNumberOfRows(), getNumberOfColumns(), getValue(row, column), getFormattedValue(row, column)
 *   new google.visualization.LineChart(container)
 *       draw(data, options)                 first call builds a Chart.js chart in the container, later calls update it
 *       getSelection()                      [{row, column}] of the clicked point, [] when nothing is selected
 *   google.visualization.events.addListener(chart, 'select', fn) (and removeListener / removeAllListeners)
 *
 * LineChart options that are honoured (everything else is ignored):
 *   chartArea {left, top, width, height}      pixels or percentages, become padding around the plot
 *   legend {position, textStyle}              'top' | 'bottom' | 'left' | 'right' | 'in', anything else hides it
 *                                             (mara passes 'off')
 *   fontName, fontSize                        for axis labels, legend and tooltips
 *   tooltip {trigger, showColorCode, textStyle {color, bold}}
 *   focusTarget                               'datum': one point (default) | 'category': all series at that x
 *   curveType                                 'function': smoothed lines (monotone, never overshoots 0)
 *   interpolateNulls                          lines continue across missing values
 *   colors, lineWidth                         chart defaults for the series
 *   series {i: {color, lineWidth, lineDashStyle, targetAxisIndex}}
 *   hAxis {format, textPosition, textStyle, gridlines.color, viewWindow {min, max}}
 *   vAxis and vAxes {i: ...} {format, textPosition, textStyle, gridlines.color, baselineColor,
 *                             viewWindow {min, max}, ticks [{v, f}]}
 *
 * Differences to Google Charts: labels of a horizontal axis with textPosition 'in' are drawn below the plot
 * (Chart.js can only mirror vertical axes); clicking a legend entry hides/shows that series; date formats know
 * the ICU fields y M d E H h m s SSS a and English month/day names.
 */
(function (window) {
    'use strict';

    var Chart = window.Chart;
    if (!Chart) {
        throw new Error('google-charts-shim.js: load chart.umd.min.js (Chart.js) before this file');
    }

    var google = window.google = window.google || {};

    /* ------------------------------------------------------------------------------------------------
     * google.charts: the loader
     * ---------------------------------------------------------------------------------------------- */

    /** Resolves once the DOM is ready: Google's loader also calls back only then */
    var domReady = new Promise(function (resolve) {
        if (document.readyState === 'loading') {
            document.addEventListener('DOMContentLoaded', function () { resolve(); }, {once: true});
        } else {
            resolve();
        }
    });

    google.charts = {
        /** Nothing to load. Accepts load(version, settings) and load(settings); returns a promise like Google's. */
        load: function (version, settings) {
            settings = (typeof version === 'object' ? version : settings) || {};
            if (typeof settings.callback === 'function') {
                google.charts.setOnLoadCallback(settings.callback);
            }
            return domReady;
        },

        /**
         * Calls `callback` asynchronously, never before the calling script has finished: mara's chart scripts
         * call this before they assign the `options` and `data` variables that the callback uses.
         */
        setOnLoadCallback: function (callback) {
            domReady.then(function () {
                try {
                    callback();
                } catch (error) {
                    // surface it as an ordinary uncaught error instead of an unhandled promise rejection
                    window.setTimeout(function () { throw error; });
                }
            });
        }
    };

    var visualization = google.visualization = google.visualization || {};

    /* ------------------------------------------------------------------------------------------------
     * google.visualization.events
     * ---------------------------------------------------------------------------------------------- */

    /** event name -> list of handlers, per chart */
    var listenersBySource = new WeakMap();

    visualization.events = {
        /** Registers `handler` for `eventName` on `source`; returns a handle for removeListener */
        addListener: function (source, eventName, handler) {
            var listeners = listenersBySource.get(source) || {};
            listenersBySource.set(source, listeners);
            (listeners[eventName] = listeners[eventName] || []).push(handler);
            return {source: source, eventName: eventName, handler: handler};
        },

        removeListener: function (handle) {
            var listeners = (listenersBySource.get(handle.source) || {})[handle.eventName] || [];
            var index = listeners.indexOf(handle.handler);
            if (index >= 0) {
                listeners.splice(index, 1);
            }
        },

        removeAllListeners: function (source) {
            listenersBySource.delete(source);
        },

        /** Calls all handlers of `eventName` on `source` with `args` */
        trigger: function (source, eventName, args) {
            var listeners = (listenersBySource.get(source) || {})[eventName] || [];
            listeners.slice().forEach(function (handler) { handler(args); });
        }
    };

    /* ------------------------------------------------------------------------------------------------
     * google.visualization.DataTable
     * ---------------------------------------------------------------------------------------------- */

    /** Converts a cell value to the type of its column */
    function convertValue(type, value, columnIndex) {
        if (value === null || value === undefined) {
            return null;
        }
        if (type === 'date' || type === 'datetime') {
            var date = value instanceof Date ? value : new Date(value);
            if (isNaN(date.getTime())) {
                throw new Error('Type mismatch. Value ' + value + ' does not match type ' + type
                                + ' in column index ' + columnIndex);
            }
            return date;
        }
        if (type === 'number') {
            return typeof value === 'number' ? value : Number(value);
        }
        if (type === 'boolean') {
            return Boolean(value);
        }
        return String(value);
    }

    function DataTable() {
        this._columns = []; // {type, label, role}
        this._rows = [];    // lists of {v, f} cells
    }

    /** addColumn(type, label) or addColumn({type, label, role}); returns the index of the new column */
    DataTable.prototype.addColumn = function (type, label) {
        var column = typeof type === 'object'
            ? {type: type.type || 'string', label: type.label || '', role: type.role || ''}
            : {type: type || 'string', label: label || '', role: ''};
        this._columns.push(column);
        this._rows.forEach(function (row) { row.push({v: null}); });
        return this._columns.length - 1;
    };

    /** Adds one row of values or {v, f} cells (missing cells are null); returns its index */
    DataTable.prototype.addRow = function (cells) {
        cells = cells || [];
        this._rows.push(this._columns.map(function (column, index) {
            var cell = cells[index];
            var isCellObject = cell !== null && typeof cell === 'object' && !(cell instanceof Date);
            return isCellObject
                ? {v: convertValue(column.type, cell.v, index), f: cell.f === undefined ? null : cell.f}
                : {v: convertValue(column.type, cell, index), f: null};
        }));
        return this._rows.length - 1;
    };

    /** Adds a list of rows, or that many empty rows; returns the index of the last one */
    DataTable.prototype.addRows = function (rows) {
        if (typeof rows === 'number') {
            for (var i = 0; i < rows; i++) {
                this.addRow([]);
            }
        } else {
            rows.forEach(function (row) { this.addRow(row); }, this);
        }
        return this._rows.length - 1;
    };

    DataTable.prototype.getNumberOfRows = function () { return this._rows.length; };
    DataTable.prototype.getNumberOfColumns = function () { return this._columns.length; };
    DataTable.prototype.getColumnType = function (column) { return this._columns[column].type; };
    DataTable.prototype.getColumnLabel = function (column) { return this._columns[column].label; };
    DataTable.prototype.getColumnRole = function (column) { return this._columns[column].role; };
    DataTable.prototype.getValue = function (row, column) { return this._rows[row][column].v; };

    /** The `f` of the cell, otherwise the value formatted by its column type */
    DataTable.prototype.getFormattedValue = function (row, column) {
        var cell = this._rows[row][column];
        if (cell.f !== null) {
            return String(cell.f);
        }
        if (cell.v === null) {
            return '';
        }
        var type = this._columns[column].type;
        if (type === 'datetime') {
            return formatDate(cell.v, 'MMM d, yyyy, HH:mm:ss');
        }
        if (type === 'date') {
            return formatDate(cell.v, 'MMM d, yyyy');
        }
        return type === 'number' ? formatNumber(cell.v) : String(cell.v);
    };

    /** {min, max} of the non-null values of a column ({min: null, max: null} when there are none) */
    DataTable.prototype.getColumnRange = function (column) {
        var min = null, max = null;
        this._rows.forEach(function (row) {
            var value = row[column].v;
            if (value !== null) {
                min = min === null || value < min ? value : min;
                max = max === null || value > max ? value : max;
            }
        });
        return {min: min, max: max};
    };

    visualization.DataTable = DataTable;

    /* ------------------------------------------------------------------------------------------------
     * Formatting of axis labels and tooltips
     * ---------------------------------------------------------------------------------------------- */

    var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
                  'October', 'November', 'December'];
    var WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

    function pad(number, length) {
        return ('000' + number).slice(-length);
    }

    /** Formats a date with an ICU pattern like Google's date formats, e.g. 'MMM d' or 'HH:mm:ss' */
    function formatDate(date, pattern) {
        return pattern.replace(/'[^']*'|yyyy|yy|y|MMMM|MMM|MM|M|dd|d|EEEE|EEE|HH|H|hh|h|mm|m|ss|s|SSS|a/g,
            function (field) {
                switch (field) {
                    case 'yyyy': case 'y': return String(date.getFullYear());
                    case 'yy': return pad(date.getFullYear() % 100, 2);
                    case 'MMMM': return MONTHS[date.getMonth()];
                    case 'MMM': return MONTHS[date.getMonth()].slice(0, 3);
                    case 'MM': return pad(date.getMonth() + 1, 2);
                    case 'M': return String(date.getMonth() + 1);
                    case 'dd': return pad(date.getDate(), 2);
                    case 'd': return String(date.getDate());
                    case 'EEEE': return WEEKDAYS[date.getDay()];
                    case 'EEE': return WEEKDAYS[date.getDay()].slice(0, 3);
                    case 'HH': return pad(date.getHours(), 2);
                    case 'H': return String(date.getHours());
                    case 'hh': return pad(date.getHours() % 12 || 12, 2);
                    case 'h': return String(date.getHours() % 12 || 12);
                    case 'mm': return pad(date.getMinutes(), 2);
                    case 'm': return String(date.getMinutes());
                    case 'ss': return pad(date.getSeconds(), 2);
                    case 's': return String(date.getSeconds());
                    case 'SSS': return pad(date.getMilliseconds(), 3);
                    case 'a': return date.getHours() < 12 ? 'AM' : 'PM';
                    default: return field.slice(1, -1); // quoted literal text
                }
            });
    }

    /** Formats a number; format 'short' gives compact labels like 1.2K, 'percent' multiplies by 100 */
    function formatNumber(value, format) {
        if (format === 'short' || format === 'long') {
            return new Intl.NumberFormat('en-US', {notation: 'compact', compactDisplay: format}).format(value);
        }
        if (format === 'percent') {
            return new Intl.NumberFormat('en-US', {style: 'percent', maximumFractionDigits: 1}).format(value);
        }
        return new Intl.NumberFormat('en-US', {maximumFractionDigits: 3}).format(value);
    }

    /* ------------------------------------------------------------------------------------------------
     * Ticks of a time axis: Chart.js' own time scale would need a date adapter, so the horizontal axis is
     * a linear axis over epoch milliseconds whose ticks are put at round local times here.
     * ---------------------------------------------------------------------------------------------- */

    var SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;

    /** [step length, step in days or months (for calendar steps), default label format] */
    var TIME_STEPS = [
        [100, 0, 'HH:mm:ss.SSS'], [200, 0, 'HH:mm:ss.SSS'], [500, 0, 'HH:mm:ss.SSS'], [SECOND, 0, 'HH:mm:ss'], [2 * SECOND, 0, 'HH:mm:ss'], [5 * SECOND, 0, 'HH:mm:ss'],
        [10 * SECOND, 0, 'HH:mm:ss'], [15 * SECOND, 0, 'HH:mm:ss'], [30 * SECOND, 0, 'HH:mm:ss'],
        [MINUTE, 0, 'HH:mm'], [2 * MINUTE, 0, 'HH:mm'], [5 * MINUTE, 0, 'HH:mm'], [10 * MINUTE, 0, 'HH:mm'],
        [15 * MINUTE, 0, 'HH:mm'], [30 * MINUTE, 0, 'HH:mm'], [HOUR, 0, 'HH:mm'], [2 * HOUR, 0, 'HH:mm'],
        [3 * HOUR, 0, 'HH:mm'], [6 * HOUR, 0, 'HH:mm'], [12 * HOUR, 0, 'MMM d, HH:mm'],
        [DAY, 1, 'MMM d'], [2 * DAY, 2, 'MMM d'], [7 * DAY, 7, 'MMM d'], [14 * DAY, 14, 'MMM d'],
        [30 * DAY, -1, 'MMM yyyy'], [91 * DAY, -3, 'MMM yyyy'], [182 * DAY, -6, 'MMM yyyy'],
        [365 * DAY, -12, 'yyyy']];

    /** Tick values (epoch ms) at round local times between min and max, at most maxTicks of them */
    function timeTicks(min, max, maxTicks) {
        var range = Math.max(max - min, 1);
        var step = TIME_STEPS[TIME_STEPS.length - 1];
        for (var i = 0; i < TIME_STEPS.length; i++) {
            if (range / TIME_STEPS[i][0] <= maxTicks) {
                step = TIME_STEPS[i];
                break;
            }
        }
        var values = [];
        var midnight = new Date(min);
        midnight.setHours(0, 0, 0, 0);
        if (step[1] === 0) { // fixed length steps, counted from local midnight
            var t = midnight.getTime() + Math.ceil((min - midnight.getTime()) / step[0]) * step[0];
            for (; t <= max; t += step[0]) {
                values.push(t);
            }
        } else { // calendar steps: days, or (negative) months
            var date = midnight;
            if (step[1] < 0) {
                date.setDate(1);
            }
            for (var n = 0; date.getTime() <= max && n < 1000; n++) {
                if (date.getTime() >= min) {
                    values.push(date.getTime());
                }
                if (step[1] > 0) {
                    date.setDate(date.getDate() + step[1]);
                } else {
                    date.setMonth(date.getMonth() - step[1]);
                }
            }
        }
        return {values: values, format: step[2]};
    }

    /* ------------------------------------------------------------------------------------------------
     * google.visualization.LineChart
     * ---------------------------------------------------------------------------------------------- */

    /** Google's default series colors */
    var DEFAULT_COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477',
                          '#66aa00', '#b82e2e', '#316395'];

    var VISIBLE_LEGEND_POSITIONS = {top: 'top', bottom: 'bottom', left: 'left', right: 'right', 'in': 'top'};

    /** A chartArea dimension ('100%', '80', 80) in pixels of `total`, or undefined */
    function toPixels(value, total) {
        if (value === undefined || value === null) {
            return undefined;
        }
        var string = String(value);
        return string.slice(-1) === '%' ? total * parseFloat(string) / 100 : parseFloat(string);
    }

    function isTransparent(color) {
        return color === 'transparent' || color === 'none';
    }

    /** The series of a data table: every number column after the first (domain) column with its role columns */
    function seriesOf(data) {
        var series = [];
        for (var column = 1; column < data.getNumberOfColumns(); column++) {
            var role = data.getColumnRole(column);
            var current = series[series.length - 1];
            if (!role && data.getColumnType(column) === 'number') {
                series.push({column: column, tooltipColumn: null, certaintyColumn: null});
            } else if (current && role === 'tooltip') {
                current.tooltipColumn = column;
            } else if (current && role === 'certainty') {
                current.certaintyColumn = column;
            }
        }
        return series;
    }

    function LineChart(container) {
        if (!container) {
            throw new Error('Container is not defined');
        }
        this._container = container;
        this._chart = null;      // the Chart.js chart, built by the first draw()
        this._selection = [];    // [{row, column}]
        this._series = [];
    }

    /** Draws the chart, or redraws it with new data and options */
    LineChart.prototype.draw = function (data, options) {
        this._data = data;
        this._options = options || {};
        this._series = seriesOf(data);
        this._selection = this._selection.filter(function (item) { return item.row < data.getNumberOfRows(); });

        var config = this._chartJsConfig(data, this._options);
        if (this._chart) {
            var chart = this._chart;
            config.data.datasets.forEach(function (dataset, index) {
                // series hidden with a click on their legend entry stay hidden
                if (index < chart.data.datasets.length && !chart.isDatasetVisible(index)) {
                    dataset.hidden = true;
                }
            });
            this._chart.data = config.data;
            this._chart.options = config.options;
            this._chart.update();
            return;
        }

        // Chart.js sizes the canvas to its parent, which must hold nothing else: a wrapper filling the container
        var wrapper = document.createElement('div');
        wrapper.className = 'google-charts-shim';
        wrapper.style.cssText = 'position:relative;width:100%;height:100%';
        var canvas = document.createElement('canvas');
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', 'Line chart');
        wrapper.appendChild(canvas);
        this._container.innerHTML = '';
        this._container.appendChild(wrapper);
        if (wrapper.clientHeight === 0 && this._container.getClientRects().length) {
            // a visible container without a height: Google's default chart height
            wrapper.style.height = '200px';
        }
        this._chart = new Chart(canvas, config);
    };

    /** The selected points: [{row, column}] with the data table row and column, [] when none */
    LineChart.prototype.getSelection = function () {
        return this._selection.map(function (item) { return {row: item.row, column: item.column}; });
    };

    /** Removes the chart from its container */
    LineChart.prototype.clearChart = function () {
        if (this._chart) {
            this._chart.destroy();
            this._chart = null;
        }
        this._container.innerHTML = '';
    };

    /** A click on a point selects it (or unselects it when it was selected), elsewhere clears the selection */
    LineChart.prototype._onClick = function (event, chart) {
        var categoryFocus = this._options.focusTarget === 'category';
        var elements = categoryFocus
            ? chart.getElementsAtEventForMode(event, 'index', {intersect: false, axis: 'x'}, true)
            : chart.getElementsAtEventForMode(event, 'nearest', {intersect: true, axis: 'xy'}, true);
        var selection = [];
        if (elements.length) {
            var element = elements[0];
            var point = chart.data.datasets[element.datasetIndex].data[element.index];
            var item = {row: point.row, column: categoryFocus ? null : this._series[element.datasetIndex].column};
            var alreadySelected = this._selection.some(function (selected) {
                return selected.row === item.row && selected.column === item.column;
            });
            selection = alreadySelected ? [] : [item];
        }
        if (selection.length || this._selection.length) {
            this._selection = selection;
            chart.update('none'); // redraws the marker of the selected point
            visualization.events.trigger(this, 'select', {});
        }
    };

    /** Translates the data table and the Google options into a Chart.js configuration */
    LineChart.prototype._chartJsConfig = function (data, options) {
        var self = this;
        var container = this._container;
        var domainType = data.getColumnType(0);
        var isTimeDomain = domainType === 'date' || domainType === 'datetime';
        var hAxis = options.hAxis || {};
        var colors = options.colors || DEFAULT_COLORS;
        var font = {
            family: options.fontName || 'Arial, sans-serif',
            size: parseFloat(options.fontSize) || 12
        };
        var fontFor = function (textStyle) {
            textStyle = textStyle || {};
            return {
                family: textStyle.fontName || font.family,
                size: parseFloat(textStyle.fontSize) || font.size,
                weight: textStyle.bold ? 'bold' : 'normal',
                style: textStyle.italic ? 'italic' : 'normal'
            };
        };

        /** The x value of a row: epoch ms for dates, the row index for string domains */
        var xOf = function (row) {
            var value = data.getValue(row, 0);
            if (value === null) {
                return null;
            }
            return isTimeDomain ? value.getTime() : (domainType === 'number' ? value : row);
        };

        var isSelected = function (row, column) {
            return self._selection.some(function (item) {
                return item.row === row && (item.column === column || item.column === null);
            });
        };

        // one dataset per series, with the data table row kept on every point
        var axesInUse = {};
        var datasets = this._series.map(function (series, index) {
            var seriesOptions = (options.series || {})[index] || {};
            var color = seriesOptions.color || colors[index % colors.length];
            var axis = 'y' + (seriesOptions.targetAxisIndex || 0);
            axesInUse[axis] = true;
            var points = [];
            for (var row = 0; row < data.getNumberOfRows(); row++) {
                var x = xOf(row);
                if (x !== null) {
                    points.push({x: x, y: data.getValue(row, series.column), row: row});
                }
            }
            var lineWidth = seriesOptions.lineWidth !== undefined ? seriesOptions.lineWidth
                : (options.lineWidth !== undefined ? options.lineWidth : 2);
            return {
                label: data.getColumnLabel(series.column),
                data: points,
                yAxisID: axis,
                clip: 6, // room for the marker of a selected point at the edge of the plot
                borderColor: color,
                backgroundColor: color,
                borderWidth: lineWidth,
                borderDash: seriesOptions.lineDashStyle || [],
                cubicInterpolationMode: options.curveType === 'function' ? 'monotone' : 'default',
                spanGaps: Boolean(options.interpolateNulls),
                // no point markers, like Google, except for the hovered and the selected point
                pointRadius: function (context) {
                    var point = context.raw;
                    return point && isSelected(point.row, series.column) ? 5 : 0;
                },
                pointHoverRadius: 4,
                pointHitRadius: 8,
                pointBackgroundColor: color,
                // role 'certainty': a segment leading to an uncertain (false) value is dashed
                segment: series.certaintyColumn === null ? undefined : {
                    borderDash: function (context) {
                        var point = points[context.p1DataIndex];
                        return point && data.getValue(point.row, series.certaintyColumn) === false
                            ? [4, 4] : undefined;
                    }
                }
            };
        });

        // horizontal axis
        var xRange = {min: null, max: null};
        for (var row = 0; row < data.getNumberOfRows(); row++) {
            var x = xOf(row);
            if (x !== null) {
                xRange.min = xRange.min === null ? x : Math.min(xRange.min, x);
                xRange.max = xRange.max === null ? x : Math.max(xRange.max, x);
            }
        }
        var hViewWindow = hAxis.viewWindow || {};
        var toX = function (value) { return value instanceof Date ? value.getTime() : value; };
        var xMin = hViewWindow.min !== undefined ? toX(hViewWindow.min) : xRange.min;
        var xMax = hViewWindow.max !== undefined ? toX(hViewWindow.max) : xRange.max;
        if (xMin !== null && xMin === xMax) { // a single x value: some room around it
            xMin -= isTimeDomain ? MINUTE : 1;
            xMax += isTimeDomain ? MINUTE : 1;
        }
        var timeFormat = null; // label format of the current time ticks
        var hGridColor = (hAxis.gridlines || {}).color;
        var hTextStyle = hAxis.textStyle || {};
        var xScale = {
            type: 'linear',
            min: xMin === null ? undefined : xMin,
            max: xMax === null ? undefined : xMax,
            grid: {display: !isTransparent(hGridColor), color: hGridColor || '#eee', drawTicks: false},
            border: {display: false},
            ticks: {
                display: hAxis.textPosition !== 'none',
                color: hTextStyle.color || '#222',
                font: fontFor(hTextStyle),
                maxRotation: 0,
                autoSkipPadding: 16, // labels that would overlap are left out
                padding: 4,
                callback: function (value, index, ticks) {
                    if (!isTimeDomain) {
                        return domainType === 'number' ? formatNumber(value, hAxis.format)
                            : (data.getNumberOfRows() > value && value === Math.round(value)
                                ? data.getFormattedValue(value, 0) : '');
                    }
                    var label = formatDate(new Date(value), hAxis.format || timeFormat);
                    // with a coarse explicit format ('MMM d') neighbouring ticks can repeat a label
                    var previous = index > 0 ? formatDate(new Date(ticks[index - 1].value),
                                                          hAxis.format || timeFormat) : null;
                    return label === previous ? '' : label;
                }
            },
            afterBuildTicks: function (scale) {
                if (isTimeDomain && scale.min < scale.max) {
                    var width = scale.maxWidth || container.clientWidth || 400;
                    var ticks = timeTicks(scale.min, scale.max, Math.max(2, Math.floor(width / 90)));
                    timeFormat = ticks.format;
                    scale.ticks = ticks.values.map(function (value) { return {value: value}; });
                }
            }
        };

        // vertical axes: 'y0' (left) and 'y1' (right), as used by the series' targetAxisIndex
        var scales = {x: xScale};
        Object.keys(axesInUse).sort().forEach(function (axisId) {
            var axisIndex = parseInt(axisId.slice(1), 10);
            var vAxis = Object.assign({}, options.vAxis || {}, (options.vAxes || {})[axisIndex] || {});
            var viewWindow = vAxis.viewWindow || {};
            var explicitTicks = (vAxis.ticks || []).map(function (tick) {
                return typeof tick === 'object' && tick !== null ? {v: tick.v, f: tick.f} : {v: tick};
            });
            var gridColor = (vAxis.gridlines || {}).color;
            var textStyle = vAxis.textStyle || {};
            var showText = vAxis.textPosition !== 'none';
            var showBaseline = !isTransparent(vAxis.baselineColor);
            var showGrid = !isTransparent(gridColor);

            // explicit ticks widen the axis to all of them, as in Google Charts
            var min = viewWindow.min, max = viewWindow.max;
            if (explicitTicks.length) {
                var tickValues = explicitTicks.map(function (tick) { return tick.v; });
                datasets.forEach(function (dataset) {
                    if (dataset.yAxisID === axisId) {
                        dataset.data.forEach(function (point) {
                            if (point.y !== null) {
                                tickValues.push(point.y);
                            }
                        });
                    }
                });
                min = min !== undefined ? min : Math.min.apply(null, tickValues);
                max = max !== undefined ? max : Math.max.apply(null, tickValues);
            }

            scales[axisId] = {
                type: 'linear',
                display: showText || showGrid || showBaseline,
                position: axisIndex === 0 ? 'left' : 'right',
                min: min,
                max: max,
                grace: '5%', // headroom above the highest value (when max is not given), as in Google Charts
                grid: {display: showGrid, color: gridColor || '#eee', drawTicks: false},
                border: {display: showBaseline, color: vAxis.baselineColor || '#ccc'},
                ticks: {
                    display: showText,
                    // textPosition 'in': labels inside the plot, just above their value
                    mirror: vAxis.textPosition === 'in',
                    labelOffset: vAxis.textPosition === 'in' ? -0.6 * fontFor(textStyle).size : 0,
                    padding: 4,
                    color: textStyle.color || '#222',
                    font: fontFor(textStyle),
                    callback: function (value) {
                        for (var i = 0; i < explicitTicks.length; i++) {
                            if (explicitTicks[i].v === value && explicitTicks[i].f !== undefined) {
                                return explicitTicks[i].f;
                            }
                        }
                        return formatNumber(value, vAxis.format);
                    }
                },
                afterBuildTicks: explicitTicks.length ? function (scale) {
                    scale.ticks = explicitTicks.map(function (tick) { return {value: tick.v}; });
                } : undefined
            };
        });

        // chartArea: the plot's distance to the container edges
        var chartArea = options.chartArea || {};
        var legendOptions = options.legend || {};
        var legendPosition = VISIBLE_LEGEND_POSITIONS[
            typeof legendOptions === 'string' ? legendOptions : (legendOptions.position || 'right')];
        var width = container.clientWidth, height = container.clientHeight;
        var left = toPixels(chartArea.left, width), top = toPixels(chartArea.top, height);
        var areaWidth = toPixels(chartArea.width, width), areaHeight = toPixels(chartArea.height, height);
        // labels inside the plot sit above their value: the top one needs some room
        var topLabelRoom = Object.keys(scales).some(function (id) { return id !== 'x' && scales[id].ticks.mirror; })
            ? Math.ceil(1.2 * font.size) : 0;
        var padding = {
            left: left !== undefined ? left : 8,
            // the legend takes its own space above the plot
            top: Math.max(topLabelRoom, legendPosition === 'top' ? 0 : (top !== undefined ? top : 8)),
            right: areaWidth !== undefined ? Math.max(0, width - (left || 0) - areaWidth) : 8,
            bottom: areaHeight !== undefined ? Math.max(0, height - (top || 0) - areaHeight) : 0
        };

        var tooltipOptions = options.tooltip || {};
        var tooltipTextStyle = tooltipOptions.textStyle || {};
        var categoryFocus = options.focusTarget === 'category';
        var legendTextStyle = legendOptions.textStyle || {};

        return {
            type: 'line',
            data: {datasets: datasets},
            options: {
                responsive: true,
                maintainAspectRatio: false, // the container decides the size
                animation: false,
                normalized: true,
                layout: {padding: padding},
                interaction: categoryFocus
                    ? {mode: 'index', intersect: false, axis: 'x'}
                    : {mode: 'nearest', intersect: false, axis: 'xy'},
                scales: scales,
                onClick: function (event, elements, chart) { self._onClick(event, chart); },
                plugins: {
                    legend: {
                        display: Boolean(legendPosition),
                        position: legendPosition || 'top',
                        align: {start: 'start', end: 'end'}[legendOptions.alignment] || 'center',
                        labels: {
                            color: legendTextStyle.color || '#222',
                            font: fontFor(legendTextStyle),
                            usePointStyle: true, // drawn as a short line in the series' color and dash style
                            pointStyle: 'line',
                            pointStyleWidth: 22,
                            boxHeight: 8,
                            padding: 10
                        }
                    },
                    tooltip: {
                        enabled: tooltipOptions.trigger !== 'none',
                        backgroundColor: '#fff',
                        borderColor: '#ccc',
                        borderWidth: 1,
                        titleColor: tooltipTextStyle.color || '#222',
                        bodyColor: tooltipTextStyle.color || '#222',
                        titleFont: Object.assign(fontFor(tooltipTextStyle), {weight: 'bold'}),
                        bodyFont: fontFor(tooltipTextStyle),
                        displayColors: tooltipOptions.showColorCode !== false,
                        boxWidth: 10,
                        boxHeight: 10,
                        filter: function (item) { return item.raw.y !== null; },
                        callbacks: {
                            title: function (items) {
                                return items.length ? data.getFormattedValue(items[0].raw.row, 0) : '';
                            },
                            // role 'tooltip' text, else the cell's formatted value
                            label: function (item) {
                                var series = self._series[item.datasetIndex];
                                var row = item.raw.row;
                                var text = series.tooltipColumn !== null
                                    ? data.getFormattedValue(row, series.tooltipColumn) : '';
                                return item.dataset.label + ': '
                                    + (text || data.getFormattedValue(row, series.column));
                            }
                        }
                    }
                }
            }
        };
    };

    visualization.LineChart = LineChart;
})(window);
