"""Who may do what in the web UI, in one place: identity, permissions, and the guard against cross-site requests.

Identity. The development server (`make run-flask`, the test client) serves every request as guest@localhost, an
Admin, and ignores the email header: anybody could send one. Production (`app.app:wsgi_app`, which gunicorn and
the Docker image serve) takes the user's email from the header that the login proxy sets (EMAIL_HTTP_HEADER) and
refuses requests without it; REQUIRE_EMAIL_HTTP_HEADER=true makes the development server do the same. An email
that the ACL does not know gets an account with the role NEW_USER_ROLE (the very first account is an Admin).

Permissions. Every endpoint is registered in ENDPOINTS with the ACL resource that it needs and its kind: a page
(403 without the permission), a fragment that a page loads (the inline permission message instead), or an action
that changes state (403; POST only; refused when the request comes from another site). Endpoints that are not
registered are refused: a new page is never open by accident. mara's own ACL hooks are patched to the same check,
so that mara's decorators and its Run buttons agree with it.

Cross-site requests. An action is accepted only when the browser says that it was sent by a page of this site:
Sec-Fetch-Site, otherwise Origin, otherwise Referer, must name this site. A request without any of them (an old
browser told to send no referrer, a script) is refused too.
"""

import re
import urllib.parse

import click
import flask
import mara_acl.config
import mara_acl.permissions
import mara_acl.views
import mara_app.views
import mara_db.dbs
import mara_db.views
import mara_page.response
import mara_pipelines.ui.views
from mara_acl import keys
from mara_app.monkey_patch import patch
from mara_page import acl
from werkzeug import exceptions

from app import config

# ---------------------------------------------------------------- resources (the columns of the ACL page)

PIPELINES = mara_pipelines.ui.views.acl_resource  # 'Pipelines': pipeline and task pages, run output
RUN = acl.AclResource(name='Run pipelines')  # starting runs; not below Pipelines, which would grant it
DB_SCHEMA = mara_db.views.acl_resource  # 'DB Schema'
CONFIGURATION = mara_app.views.acl_resource  # 'Configuration': the values of all settings
ACL = mara_acl.views.acl_resource  # 'Users': users, roles and permissions


def MARA_ACL_RESOURCES():
    """Found by app.wiring.acl_resources, which puts every declared resource on the ACL page."""
    return {'Run pipelines': RUN}


# ---------------------------------------------------------------- endpoints

PUBLIC = 'public'  # every logged-in user
PAGE = 'page'  # without the permission: 403
FRAGMENT = 'fragment'  # loaded into a page: the inline permission message
ACTION = 'action'  # changes state: POST from a page of this site only

# endpoint: (resource, kind). Register a new endpoint with one line here; endpoints not listed are refused.
ENDPOINTS = {
    'start_page': (None, PUBLIC),
    'mara_app.navigation_bar': (None, PUBLIC),
    'mara_app.configuration_page': (CONFIGURATION, PAGE),

    'mara_pipelines.node_page': (PIPELINES, PAGE),
    'mara_pipelines.dependency_graph': (PIPELINES, FRAGMENT),
    'mara_pipelines.run_time_chart': (PIPELINES, FRAGMENT),
    'mara_pipelines.pipeline_children_table': (PIPELINES, FRAGMENT),
    'mara_pipelines.last_runs_selector': (PIPELINES, FRAGMENT),
    'mara_pipelines.run_output': (PIPELINES, FRAGMENT),
    'mara_pipelines.system_stats': (PIPELINES, FRAGMENT),
    'mara_pipelines.timeline_chart': (PIPELINES, FRAGMENT),
    'data_quality.index_page': (PIPELINES, PAGE),
    # mara's run pages lead to the start form of app/ui/runs.py (they no longer start runs)
    'mara_pipelines.run_page': (RUN, PAGE),
    'mara_pipelines.do_run': (RUN, PAGE),
    'app_runs.runs_page': (PIPELINES, PAGE),
    'app_runs.run_page': (PIPELINES, PAGE),
    'app_runs.run_events': (PIPELINES, PAGE),
    'app_runs.new_run': (RUN, PAGE),
    'app_runs.start_run': (RUN, ACTION),
    'app_runs.rerun_failed': (RUN, ACTION),
    'app_runs.cancel_run': (RUN, ACTION),

    'mara_db.index_page': (DB_SCHEMA, PAGE),
    'mara_db.schema_page': (DB_SCHEMA, PAGE),
    'mara_db.schema_selection': (DB_SCHEMA, FRAGMENT),
    'mara_db.draw_schema': (DB_SCHEMA, FRAGMENT),

    'mara_acl.acl_page': (ACL, PAGE),
    'mara_acl.add_user': (ACL, ACTION),
    'mara_acl.deleteuser_handler': (ACL, ACTION),
    'mara_acl.change_role': (ACL, ACTION),
    'mara_acl.save_permissions': (ACL, ACTION),
}

# What a user without the permission may not do, for the 403 message.
_DENIED = {PIPELINES: 'view pipelines', RUN: 'start runs', DB_SCHEMA: 'view the database schemas',
           CONFIGURATION: 'view the configuration', ACL: 'change users, roles and permissions'}

# mara-acl 2.1.1 changes users and roles with GET links; these are answered as POST only (see static/access.js).
_GET_LINKS_MADE_POST = ('mara_acl.deleteuser_handler', 'mara_acl.change_role')


def is_static(endpoint: str) -> bool:
    return endpoint == 'static' or endpoint.endswith('.static')


# ---------------------------------------------------------------- identity

GUEST_EMAIL = 'guest@localhost'  # mara's user of requests without login
ADMIN_ROLE = 'Admin'
EMAIL = re.compile(r'[^@\s<>"\'&/\\]+@[^@\s<>"\'&/\\]+')
MIN_SECRET_KEY_LENGTH = 32  # a random key of this size cannot be guessed; shorter ones are typed by hand

_production = False


def login_required() -> bool:
    """Whether requests must carry the login proxy's email header: always in production."""
    return _production or config.require_email_http_header()


def valid_email(value: str) -> str:
    """The email in lower case; a ValueError for anything that does not look like one."""
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise ValueError(f'not an email address: {value!r}')
    return email


def email_of_request() -> str:
    """The user of this request (replaces mara_acl.views._handle_login, which mara's login hook calls)."""
    if not login_required():
        return GUEST_EMAIL
    header = config.email_http_header()
    value = flask.request.headers.get(header, '')
    if not value.strip():
        flask.abort(403, f'Please log in: this server is used through a login proxy, which sets the header '
                         f'{header}, and this request came without it.')
    try:
        return valid_email(value)
    except ValueError:
        flask.abort(400, f'The header {header} does not contain an email address.')


def current_user_email() -> str:
    """Replaces mara_page.acl.current_user_email, a stub that always says guest@localhost (mara-acl only sets
    flask.g): who started or cancelled a run from the web UI."""
    if flask.has_request_context() and hasattr(flask.g, 'current_user_email'):
        return flask.g.current_user_email
    return GUEST_EMAIL


def role_for_new_user(is_first_user: bool = False, email: str = '') -> str:
    """The first account, and the guest of the development server, are Admins; everyone else gets NEW_USER_ROLE."""
    if is_first_user or (email == GUEST_EMAIL and not login_required()):
        return ADMIN_ROLE
    return config.new_user_role()


def initial_permissions() -> dict:
    """What mara stores when the first account is created: Admins may do everything, new users view pipelines."""
    return {'admin_all': [keys.user_key(ADMIN_ROLE), 'resource__All'],
            'new_users_view_pipelines': [keys.user_key(config.new_user_role()), resource_key(PIPELINES)]}


def production_wsgi_app(flask_app: flask.Flask):
    """The WSGI app of production (`app.app:wsgi_app`): refuses unsafe settings, then requires the login header."""
    global _production
    key = config.secret_key()
    if key == config.DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f'Not starting: production needs SECRET_KEY set to a random value of at least {MIN_SECRET_KEY_LENGTH} '
            "characters, for example the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`.")
    _production = True
    return flask_app.wsgi_app


# ---------------------------------------------------------------- permissions

def resource_key(resource: acl.AclResource) -> str:
    """mara's key of a resource, e.g. 'resource__All__All__Pipelines' (the tree is linked on first use)."""
    if resource.parent is None:
        mara_acl.config.resources()  # sets the parents of all declared resources
    return keys.resource_key(resource)


def _granted_resource_keys(role: str, email: str) -> set:
    """The resource keys granted to the role and to the user itself."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT resource_key FROM acl_permission WHERE user_key = ANY(%s)',
                       ([keys.user_key(role), keys.user_key(role, email)],))
        return {key for (key,) in cursor.fetchall()}


def _covers(granted: set, resource: acl.AclResource) -> bool:
    """A permission on a resource covers the resource and everything below it, nothing else.

    Not mara_acl.permissions.current_user_has_permissions: its LIKE prefixes let the role 'Admin' grant to the
    role 'Administrators', and a permission on a child resource grant its parent.
    """
    key = resource_key(resource)
    return any(key == granted_key or key.startswith(granted_key + '__') for granted_key in granted)


def current_user_has_permissions(resources: list) -> list:
    """Replaces mara_page.acl.current_user_has_permissions: [[resource, allowed]] for the user of this request."""
    if not flask.has_request_context() or not hasattr(flask.g, 'current_user_role'):
        return [[resource, False] for resource in resources]  # nobody is logged in
    if not hasattr(flask.g, 'granted_resource_keys'):
        flask.g.granted_resource_keys = _granted_resource_keys(flask.g.current_user_role, flask.g.current_user_email)
    return [[resource, _covers(flask.g.granted_resource_keys, resource)] for resource in resources]


def user_has_permissions(email: str, resources: list) -> list:
    """Replaces mara_page.acl.user_has_permissions; unlike mara's, it never creates an account."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT role FROM acl_user WHERE email = %s', (email.lower(),))
        row = cursor.fetchone()
    granted = _granted_resource_keys(row[0], email.lower()) if row else set()
    return [[resource, _covers(granted, resource)] for resource in resources]


def current_user_may(resource: acl.AclResource) -> bool:
    return current_user_has_permissions([resource])[0][1]


def set_role(email: str, role: str) -> None:
    """Creates the account or changes its role; stores mara's initial permissions when there are none yet."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT EXISTS (SELECT 1 FROM acl_permission)')
        has_permissions = cursor.fetchone()[0]
    if not has_permissions:
        mara_acl.permissions.initialize_permissions()
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('INSERT INTO acl_user (email, role) VALUES (%s, %s) '
                       'ON CONFLICT (email) DO UPDATE SET role = excluded.role', (email, role))


# ---------------------------------------------------------------- cross-site requests

_FETCH_SITES_OF_THIS_SITE = ('same-origin', 'none')  # none: typed into the address bar, or a bookmark
_DEFAULT_PORTS = {'http': '80', 'https': '443'}


def _host(netloc: str) -> str:
    """host[:port] in lower case, without a default port (a proxy in front may terminate TLS)."""
    host = netloc.strip().lower()
    for default_port in _DEFAULT_PORTS.values():
        host = host.removesuffix(f':{default_port}')
    return host


def request_comes_from_this_site() -> bool:
    """Whether the browser says that a page of this site sent the request (every header given must agree)."""
    headers = flask.request.headers
    verdicts = []
    if 'Sec-Fetch-Site' in headers:
        verdicts.append(headers['Sec-Fetch-Site'] in _FETCH_SITES_OF_THIS_SITE)
    for name in ('Origin', 'Referer'):
        if headers.get(name):
            url = urllib.parse.urlsplit(headers[name])
            verdicts.append(url.scheme in _DEFAULT_PORTS and _host(url.netloc) == _host(flask.request.host))
    return bool(verdicts) and all(verdicts)


# ---------------------------------------------------------------- the check of every request

def check_request():
    """before_request: refuses what the user may not do (after mara_acl's login hook has set the user)."""
    endpoint = flask.request.endpoint
    if endpoint is None or is_static(endpoint):  # no route (Flask answers 404/405), or files
        return None
    if endpoint not in ENDPOINTS:
        flask.abort(403, f'The endpoint {endpoint} is not registered in app/access.py, so nobody may use it.')
    resource, kind = ENDPOINTS[endpoint]
    if kind == ACTION and flask.request.method != 'POST':
        raise exceptions.MethodNotAllowed(valid_methods=['POST'])
    if kind == ACTION and not request_comes_from_this_site():
        flask.abort(403, 'Refused: this request would change something, and the browser did not say that a page '
                         'of this site sent it. Use the buttons of this site.')
    if resource is None or current_user_may(resource):
        return None
    if kind == FRAGMENT:
        return acl.inline_permission_denied_message()
    flask.abort(403, f'{flask.g.current_user_email} (role {flask.g.current_user_role}) may not '
                     f'{_DENIED.get(resource, resource.name)}. An admin can grant the permission '
                     f'"{resource.name}" on the ACL page.')


def _on_every_response(response: flask.Response) -> flask.Response:
    """after_request (before mara's layout): no framing by other sites, no referrer to them; the ACL page's script."""
    response.headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
    response.headers.setdefault('X-Content-Type-Options', 'nosniff')
    response.headers.setdefault('Referrer-Policy', 'same-origin')
    if flask.request.endpoint == 'mara_acl.acl_page' and isinstance(response, mara_page.response.Response):
        response.js_files.append(flask.url_for('app_ui.static', filename='access.js'))
    return response


def init_app(flask_app: flask.Flask) -> None:
    """Registers the check of every request and answers mara-acl's GET links for changes as POST."""
    for rule in list(flask_app.url_map.iter_rules()):
        if rule.endpoint in _GET_LINKS_MADE_POST:
            flask_app.add_url_rule(rule.rule, rule.endpoint, flask_app.view_functions[rule.endpoint],
                                   methods=['POST'])
    flask_app.before_request(check_request)
    flask_app.after_request(_on_every_response)


# ---------------------------------------------------------------- mara's hooks, pointed here
# Through lambdas: mara's `patch` copies the replaced function's name and docstring onto the new function.

patch(acl.current_user_has_permissions)(lambda resources: current_user_has_permissions(resources))
patch(acl.user_has_permissions)(lambda email, resources: user_has_permissions(email, resources))
patch(acl.current_user_email)(lambda: current_user_email())
patch(mara_acl.views._handle_login)(lambda: email_of_request())
patch(mara_acl.config.require_email_http_header)(lambda: login_required())
patch(mara_acl.config.email_http_header)(lambda: config.email_http_header())
patch(mara_acl.config.role_for_new_user)(
    lambda is_first_user=False, email='': role_for_new_user(is_first_user, email))
patch(mara_acl.config.initial_permissions)(lambda: initial_permissions())


# ---------------------------------------------------------------- command line

@click.group('acl')
def acl_commands():
    """Users and roles of the web UI's ACL."""


@acl_commands.command('set-role')
@click.argument('email')
@click.argument('role')
def set_role_command(email: str, role: str):
    """Gives EMAIL the ROLE (creating the account), e.g. the first Admin before anyone logs in."""
    try:
        email = valid_email(email)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint='EMAIL') from None
    set_role(email, role)
    click.echo(f'{email} has the role {role}.')


CLICK_COMMANDS = {'acl': acl_commands}

