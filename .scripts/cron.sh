#!/usr/bin/env bash
# The daily run of the root pipeline by cron.
#   cron.sh line      prints the crontab line (CRON_SCHEDULE, default "0 3 * * *"; output appended to CRON_LOG)
#   cron.sh install   puts it into the user's crontab, replacing the line of an earlier install of this checkout
# Only one run at a time: a run that starts while another one is in progress is refused (and says so in the log).
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schedule="${CRON_SCHEDULE:-0 3 * * *}"
log="${CRON_LOG:-$PROJECT_ROOT/logs/cron.log}"
marker="# mara example project: $PROJECT_ROOT"

die() { echo "ERROR: $*" >&2; exit 1; }
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }  # for cron's /bin/sh

line() {
  local command
  command="cd $(quote "$PROJECT_ROOT") && mkdir -p $(quote "$(dirname "$log")") && .venv/bin/flask --app app.app"
  command+=" mara-pipelines run --disable-colors --started-by cron >> $(quote "$log") 2>&1"
  [[ "$schedule $command $marker" != *%* ]] || die "cron reads % as a line break: no % in CRON_SCHEDULE, CRON_LOG or the path"
  echo "$schedule $command $marker"
}

install() {
  command -v crontab >/dev/null || bash "$PROJECT_ROOT/.scripts/install-system-packages.sh" --cron
  local new
  new="$(line)"
  { crontab -l 2>/dev/null | grep -vF -- "$marker" || true; echo "$new"; } | crontab -
  echo "==> Installed in the crontab of $(id -un) (crontab -l shows it; output goes to $log):"
  echo "$new"
  pgrep -x cron >/dev/null || echo "==> The cron daemon does not run here: start it (e.g. 'service cron start')"
}

case "${1:-}" in
  line) line ;;
  install) install ;;
  *) die "usage: $0 line|install" ;;
esac
