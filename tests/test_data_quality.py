"""The completeness rule (app/data_quality.py): plain Python, no database."""

import datetime

from app.data_quality import DayStatistics, completeness_flags

DAY = datetime.date(2025, 10, 9)


def history(rows: int = 1000, totals: dict | None = None, days: int = 28, last: datetime.date = DAY):
    """`days` days of statistics before `last`, all alike."""
    totals = {'number_of_forks': 200} if totals is None else totals
    return [DayStatistics(last - datetime.timedelta(days=offset), rows, dict(totals)) for offset in range(1, days + 1)]


def judged(today: DayStatistics, before: list[DayStatistics]) -> list[tuple]:
    flags = completeness_flags('github', [*before, today], days=[today.day])
    return [(f.day, f.metric, f.kind, f.value, f.baseline) for f in flags]


def test_a_normal_day_is_not_flagged():
    assert judged(DayStatistics(DAY, 900, {'number_of_forks': 180}), history()) == []


def test_a_sudden_drop_of_rows_is_flagged_with_a_readable_message():
    flags = completeness_flags('github', [*history(), DayStatistics(DAY, 7, {'number_of_forks': 150})])
    assert [(f.metric, f.kind, f.value, f.baseline) for f in flags] == [('rows', 'drop', 7, 1000)]
    assert str(flags[0]) == ('github 2025-10-09: rows 7 is 0.7 % of the median 1,000 of the 28 days before '
                             '(below 20 %)')


def test_a_sudden_drop_of_a_metric_total_is_flagged():
    flags = completeness_flags('github', [*history(), DayStatistics(DAY, 1000, {'number_of_forks': 39})])
    assert [(f.metric, f.kind, f.value) for f in flags] == [('number_of_forks', 'drop', 39)]
    assert flags[0].message == ('github 2025-10-09: the total of number_of_forks 39 is 19.5 % of the median 200 '
                                'of the 28 days before (below 20 %)')


def test_exactly_a_fifth_of_the_median_is_not_a_drop():
    assert judged(DayStatistics(DAY, 200, {'number_of_forks': 40}), history()) == []


def test_the_median_ignores_outliers_and_weekends_are_normal():
    before = history()
    weekend = [s for s in before if s.day.weekday() >= 5]
    before = [DayStatistics(s.day, 600, s.totals) if s in weekend else s for s in before]
    before[0] = DayStatistics(before[0].day, 1, before[0].totals)  # yesterday broken: the median does not care
    saturday = datetime.date(2025, 10, 11)
    assert saturday.weekday() == 5
    assert completeness_flags('github', [*before, DayStatistics(DAY, 1000, {'number_of_forks': 200}),
                                         DayStatistics(saturday - datetime.timedelta(days=1), 1000, {}),
                                         DayStatistics(saturday, 550, {'number_of_forks': 110})],
                              days=[DAY, saturday]) == []


def test_a_metric_suddenly_all_null_is_flagged_but_not_when_null_is_usual():
    flags = completeness_flags('github', [*history(totals={'number_of_commits': 5000}),
                                          DayStatistics(DAY, 1000, {'number_of_commits': None})])
    assert [(f.metric, f.kind, f.value, f.baseline) for f in flags] == [('number_of_commits', 'all_null', None, 1.0)]
    assert flags[0].message == ('github 2025-10-09: number_of_commits is NULL on all 1,000 rows, but had values on '
                                '28 of the 28 days before')

    mostly_null = history(totals={'number_of_commits': None}, days=14) + history(
        totals={'number_of_commits': 5000}, days=14, last=DAY - datetime.timedelta(days=14))
    assert judged(DayStatistics(DAY, 1000, {'number_of_commits': None}), mostly_null) == []


def test_a_day_with_too_little_history_is_not_judged():
    assert judged(DayStatistics(DAY, 1, {'number_of_forks': 0}), history(days=6)) == []
    assert len(judged(DayStatistics(DAY, 1, {'number_of_forks': 0}), history(days=7))) == 2


def test_only_the_28_days_before_count():
    old = history(rows=10 ** 6, days=30, last=DAY - datetime.timedelta(days=28))  # more than 28 days before
    assert judged(DayStatistics(DAY, 900, {'number_of_forks': 180}), old + history()) == []
    assert judged(DayStatistics(DAY, 900, {'number_of_forks': 180}), old) == []  # no baseline at all


def test_nothing_to_compare_with_gives_no_flag():
    assert judged(DayStatistics(DAY, 0, {'number_of_forks': None}), history(rows=0, totals={'number_of_forks': None})) \
        == []
    # a column older files do not have (a new file version) is not judged
    assert judged(DayStatistics(DAY, 1000, {'number_of_forks': 200, 'number_of_pushes': 0}), history()) == []


def test_only_the_asked_days_are_judged():
    days = [*history(), DayStatistics(DAY, 7, {})]
    assert completeness_flags('pypi', days, days=[DAY - datetime.timedelta(days=1)]) == []
    assert [f.day for f in completeness_flags('pypi', days, days=[DAY])] == [DAY]
