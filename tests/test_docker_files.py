"""Consistency checks of the Docker files, which cannot be built on the development machines.

Covers Dockerfile, .dockerignore, docker-compose.yml, .scripts/docker/postgres/initdb.sql and
.env.example against each other and against app/config.py.
"""

import fnmatch
import inspect
import json
import pathlib
import re
import shlex
import sys

import pytest
import yaml

import app.config
from tests.support import PROJECT_ROOT, db

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}; `$${VAR}` is an escaped `$`.
COMPOSE_VARIABLE = re.compile(r'(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}')
CONFIG_ENV_CALL = re.compile(r'''env\.(?:string|boolean)\(\s*['"](?P<name>[A-Z][A-Z0-9_]*)['"]''')
ENV_EXAMPLE_LINE = re.compile(r'^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$')

POSTGRES_SERVICE = 'postgres'
APP_SERVICE = 'app'
APP_PORT = 5000
POSTGRES_CONTAINER_PORT = 5432
INITDB_MOUNT_DIR = '/docker-entrypoint-initdb.d/'


# ---------------------------------------------------------------- parsing helpers

def read(relative_path: str) -> str:
    return (PROJECT_ROOT / relative_path).read_text()


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    instructions, current = [], ''
    for line in read('Dockerfile').splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith('#')):
            continue
        if current and stripped.startswith('#'):  # comment lines inside a continued instruction
            continue
        if stripped.endswith('\\'):
            current += stripped[:-1] + ' '
            continue
        current += stripped
        keyword, _, arguments = current.partition(' ')
        instructions.append((keyword.upper(), arguments.strip()))
        current = ''
    assert not current, f'Dockerfile ends inside a continued instruction: {current!r}'
    return instructions


def dockerfile_args(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile_instructions() if instruction == keyword]


def exec_form(arguments: str) -> list[str]:
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, as a list."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list) and all(isinstance(item, str) for item in parsed), arguments
    return parsed


def dockerfile_arg_default(name: str) -> str:
    defaults = [arguments.partition('=')[2] for arguments in dockerfile_args('ARG') if arguments.startswith(f'{name}=')]
    assert len(defaults) == 1, f'ARG {name} with a default, once'
    return defaults[0]


def dockerfile_env() -> dict[str, str]:
    """All ENV settings (`ENV KEY=VALUE ...` form) of the Dockerfile; later ones win."""
    env = {}
    for arguments in dockerfile_args('ENV'):
        for item in shlex.split(arguments):
            assert '=' in item, f'use the ENV KEY=VALUE form: {arguments!r}'
            key, _, value = item.partition('=')
            env[key] = value
    return env


def dockerfile_cmd() -> list[str]:
    cmds = dockerfile_args('CMD')
    assert len(cmds) == 1, cmds
    return exec_form(cmds[0])


def copy_sources() -> list[str]:
    """Source paths of COPY/ADD instructions (flags like --chown dropped)."""
    sources = []
    for keyword in ('COPY', 'ADD'):
        for arguments in dockerfile_args(keyword):
            parts = [part for part in shlex.split(arguments) if not part.startswith('--')]
            sources.extend(parts[:-1])
    return sources


def compose() -> dict:
    return yaml.safe_load(read('docker-compose.yml'))


def service(name: str) -> dict:
    return compose()['services'][name]


def compose_variables() -> list[re.Match]:
    return list(COMPOSE_VARIABLE.finditer(read('docker-compose.yml')))


def substitute_defaults(value: str, **variables: str) -> str:
    """Compose's interpolation for an environment with only `variables`: ${VAR:-default} -> default."""
    def replacement(match: re.Match) -> str:
        if match['name'] in variables:
            return variables[match['name']]
        assert match['op'] in ('-', ':-'), f'{match[0]} has no default'
        return match['arg']
    return COMPOSE_VARIABLE.sub(replacement, str(value))


def env_example() -> dict[str, tuple[str, bool]]:
    """VAR -> (value, commented out) of .env.example."""
    variables = {}
    for line in read('.env.example').splitlines():
        match = ENV_EXAMPLE_LINE.match(line.strip())
        if match:
            assert match['name'] not in variables, f'{match["name"]} is defined twice in .env.example'
            variables[match['name']] = (match['value'], bool(match['commented']))
    return variables


def config_variables() -> set[str]:
    return set(CONFIG_ENV_CALL.findall(read('app/config.py')))


def port_mapping(entry) -> tuple[str, int]:
    """'[ip:]host:container[/tcp]' -> (host part, container port)."""
    entry = str(entry).split('/')[0]
    host, _, container = entry.rpartition(':')
    return host, int(container)


def bind_mounts(service_definition: dict) -> list[tuple[str, str]]:
    """(host path, container path) of the short-syntax volumes that are bind mounts."""
    mounts = []
    for volume in service_definition.get('volumes', []):
        source, _, rest = str(volume).partition(':')
        target = rest.split(':')[0]
        if source.startswith(('.', '/', '~')):
            mounts.append((source, target))
    return mounts


def initdb_sql() -> str:
    """initdb.sql without its -- comments."""
    return re.sub(r'--[^\n]*', '', read('.scripts/docker/postgres/initdb.sql'))


def initdb_databases() -> list[str]:
    return re.findall(r"CREATE DATABASE\s+\"?([A-Za-z_][A-Za-z0-9_]*)", initdb_sql(), flags=re.IGNORECASE)


@pytest.fixture
def clean_config_env(monkeypatch):
    """An environment without any variable that app/config.py reads, so that its defaults apply."""
    for name in config_variables():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# ---------------------------------------------------------------- (a) referenced files exist

def test_build_context_and_dockerfile_exist():
    build = service(APP_SERVICE)['build']
    context = PROJECT_ROOT / build['context']
    assert context.resolve() == PROJECT_ROOT
    assert (context / build.get('dockerfile', 'Dockerfile')).is_file()
    assert (PROJECT_ROOT / '.dockerignore').is_file()


def test_files_copied_in_dockerfile_exist():
    sources = copy_sources()
    assert 'requirements.txt.freeze' in sources
    for source in sources:
        assert (PROJECT_ROOT / source).exists(), f'COPY source {source} is missing'


def test_requirements_provide_the_commands_of_the_image():
    requirements = read('requirements.txt.freeze').lower()
    assert re.search(r'^gunicorn==', requirements, flags=re.MULTILINE), 'the default CMD runs gunicorn'
    assert re.search(r'^flask==', requirements, flags=re.MULTILINE), 'the dev command runs flask'


def test_bind_mounted_files_exist():
    mounts = [mount for definition in compose()['services'].values() for mount in bind_mounts(definition)]
    assert ('.', '/mara') in mounts
    for source, _ in mounts:
        assert (PROJECT_ROOT / source).exists(), f'bind-mounted {source} is missing'


def test_env_files_exist():
    for name, definition in compose()['services'].items():
        env_files = definition.get('env_file', [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file['path'] if isinstance(env_file, dict) else env_file
            required = env_file.get('required', True) if isinstance(env_file, dict) else True
            # .env is local and git-ignored: compose's env_file needs it, so only its template must exist
            if path in ('.env', './.env'):
                assert required is False, f'{name}: env_file .env is required but not part of the repo'
                assert (PROJECT_ROOT / '.env.example').is_file()
            else:
                assert (PROJECT_ROOT / path).is_file(), f'{name}: env_file {path} is missing'
    assert (PROJECT_ROOT / '.env.example').is_file()


def test_healthcheck_script_of_the_image_exists():
    healthchecks = dockerfile_args('HEALTHCHECK')
    for arguments in healthchecks:
        command = exec_form(arguments[arguments.index('CMD') + 3:].strip())
        scripts = [part for part in command if part.startswith('/mara/')]
        for script in scripts:
            assert (PROJECT_ROOT / script.removeprefix('/mara/')).is_file(), script


def dockerignore_patterns() -> list[str]:
    patterns = []
    for line in read('.dockerignore').splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            patterns.append(line.strip('/'))
    return patterns


def dockerignored(path: str) -> bool:
    """Whether .dockerignore excludes path (a file, or anything under a directory), without ! exceptions."""
    parts = path.strip('/').split('/')
    prefixes = ['/'.join(parts[:index]) for index in range(1, len(parts) + 1)]
    for pattern in dockerignore_patterns():
        assert not pattern.startswith('!'), 'exceptions are not supported by this test'
        if pattern.startswith('**/'):
            tail = pattern[3:]
            if any(fnmatch.fnmatch('/'.join(parts[start:end]), tail)
                   for start in range(len(parts)) for end in range(start + 1, len(parts) + 1)):
                return True
        elif any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            return True
    return False


def test_dockerignore_keeps_local_state_and_secrets_out():
    for excluded in ['.venv', '.postgres', 'data/2018-04-01.csv.gz', '.git/HEAD', '.env',
                     'app/__pycache__/config.cpython-311.pyc',
                     'app/bigquery_downloader/bigquery-credentials.json']:
        assert dockerignored(excluded), f'{excluded} ends up in the image'


def test_dockerignore_keeps_what_the_image_needs():
    needed = copy_sources() + ['app/config.py', 'app/app.py', '.scripts/docker/app/healthcheck.py', '.env.example']
    for path in needed:
        if path != '.':
            assert not dockerignored(path), f'{path} is excluded by .dockerignore but needed in the image'


# ---------------------------------------------------------------- (b) names match the app config

def test_app_postgres_host_is_the_postgres_service():
    services = compose()['services']
    assert set(services) == {POSTGRES_SERVICE, APP_SERVICE}
    assert service(APP_SERVICE)['environment']['POSTGRES_HOST'] == POSTGRES_SERVICE
    assert service(APP_SERVICE)['depends_on'] == {POSTGRES_SERVICE: {'condition': 'service_healthy'}}
    assert 'healthcheck' in service(POSTGRES_SERVICE)
    assert 'pg_isready' in ' '.join(service(POSTGRES_SERVICE)['healthcheck']['test'])
    # the image's own default points to the same service name
    assert dockerfile_env()['POSTGRES_HOST'] == POSTGRES_SERVICE


def test_database_names_match_config_defaults_and_initdb(clean_config_env):
    environment = service(APP_SERVICE)['environment']
    assert substitute_defaults(environment['DWH_DB']) == app.config.dwh_db()
    assert substitute_defaults(environment['MARA_DB']) == app.config.mara_db()
    assert sorted(initdb_databases()) == sorted([app.config.dwh_db(), app.config.mara_db()])


def test_initdb_creates_extensions_in_the_dwh_database(clean_config_env):
    sql = initdb_sql()
    connects = re.findall(r'^\\(?:connect|c)\s+(\S+)', sql, flags=re.MULTILINE)
    assert connects == [app.config.dwh_db()]
    after_connect = sql[sql.index('\\connect ' + app.config.dwh_db()):]
    extensions = re.findall(r'CREATE EXTENSION IF NOT EXISTS\s+(\w+)', after_connect, flags=re.IGNORECASE)
    assert 'hll' in extensions
    assert {'citus_columnar', 'citus'} & set(extensions)


def test_initdb_sql_is_mounted_into_the_entrypoint_directory():
    mounts = bind_mounts(service(POSTGRES_SERVICE))
    targets = [target for source, target in mounts
               if pathlib.PurePosixPath(source) == pathlib.PurePosixPath('.scripts/docker/postgres/initdb.sql')]
    assert len(targets) == 1
    assert targets[0].startswith(INITDB_MOUNT_DIR) and targets[0].endswith('.sql')
    volumes = service(POSTGRES_SERVICE)['volumes']
    assert 'mara-postgres-data:/var/lib/postgresql/data' in volumes
    assert 'mara-postgres-data' in compose()['volumes']


def test_the_postgres_image_is_the_tested_major_with_what_initdb_creates(databases):
    """The compose server runs the PostgreSQL major that the tests run against, in a Citus release that has the
    extensions initdb.sql creates (citus_columnar is a separate extension from Citus 11.1 on)."""
    image = service(POSTGRES_SERVICE)['image']
    found = re.fullmatch(r'citusdata/citus:(?P<citus>\d+\.\d+)(?:\.\d+)?-pg(?P<postgres>\d+)', image)
    assert found, f'{image}: pin a Citus release and its PostgreSQL major, e.g. citusdata/citus:12.1-pg15'
    (tested,), = db.query('SHOW server_version_num')
    assert int(found['postgres']) == int(tested) // 10000
    if 'citus_columnar' in initdb_sql():
        assert tuple(map(int, found['citus'].split('.'))) >= (11, 1), image


def test_two_projects_side_by_side_get_containers_and_images_of_their_own():
    """MARA_PROJECT_NAME tells the containers and the development image apart (.env.example)."""
    postgres, app_service = service(POSTGRES_SERVICE), service(APP_SERVICE)
    names = [postgres['container_name'], app_service['container_name'], app_service['image']]
    one, two = ({substitute_defaults(name, MARA_PROJECT_NAME=project) for name in names} for project in ('one', 'two'))
    assert len(one) == len(two) == len(names) and not one & two, (one, two)
    assert len({substitute_defaults(name) for name in names}) == len(names)  # the default name, too
    for variable in ('POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'):
        assert f'${{{variable}' in str(postgres['environment'][variable])
    # app and server use the same credentials
    for variable in ('POSTGRES_USER', 'POSTGRES_PASSWORD'):
        assert app_service['environment'][variable] == postgres['environment'][variable]


def test_dev_command_migrates_then_runs_the_flask_dev_server():
    command = service(APP_SERVICE)['command']
    script = command[-1] if isinstance(command, list) else command
    migrate = script.index('flask --app app.app mara-db migrate')
    run = script.index(f'flask --app app.app run --host 0.0.0.0 --port {APP_PORT}')
    assert migrate < run
    assert '&&' in script[migrate:run], 'the server must not start when the migration fails'
    environment = service(APP_SERVICE)['environment']
    assert environment['ALLOW_RUN_FROM_WEB_UI'] == 'true'
    # the image's data directory, the one its build makes writable for the app's user
    assert environment['DATA_DIR'] == dockerfile_env()['DATA_DIR']
    assert environment['DATA_DIR'] in dockerfile_run('chown')


# ---------------------------------------------------------------- (c) ports and env vars

def test_every_compose_variable_is_in_env_example():
    defined = env_example()
    for match in compose_variables():
        assert match['name'] in defined, f'{match[0]} in docker-compose.yml is not in .env.example'


def test_compose_defaults_equal_env_example_values():
    defined = env_example()
    for match in compose_variables():
        value, _ = defined[match['name']]
        if match['op'] in ('-', ':-') and value:
            assert match['arg'] == value, f'{match[0]} vs {match["name"]}={value} in .env.example'


def test_every_config_variable_is_in_env_example():
    variables = config_variables()
    assert len(variables) >= 20, variables  # the regex still finds the settings
    defined = env_example()
    assert variables - set(defined) == set()
    assert 'MARA_PROJECT_NAME' in defined
    assert defined['GOOGLE_APPLICATION_CREDENTIALS'][1] is True, 'keep GOOGLE_APPLICATION_CREDENTIALS commented out'
    assert defined['POSTGRES_HOST'][0] == '', 'empty POSTGRES_HOST: the project-local cluster'
    # a copy of the example changes no setting: app/local_setup.py's defaults still apply (tests/test_env_file.py)
    assert [name for name, (_value, commented) in defined.items() if not commented] == []
    # only config settings and documented compose settings
    assert set(defined) - variables == {'MARA_PROJECT_NAME', 'POSTGRES_DB', 'MARA_UID'}


def config_values() -> dict[str, object]:
    values = {}
    for name in dir(app.config):
        function = getattr(app.config, name)
        if (not name.startswith('_') and inspect.isfunction(function) and function.__module__ == 'app.config'
                and not inspect.signature(function).parameters):
            values[name] = function()
    return values


def test_env_example_values_are_the_config_defaults(clean_config_env):
    defaults = config_values()
    assert 'dwh_db' in defaults and 'postgres_port' in defaults
    for name, (value, _commented) in env_example().items():
        if name != 'GOOGLE_APPLICATION_CREDENTIALS':  # its line shows the form of a value, not the default
            clean_config_env.setenv(name, value)
    assert config_values() == defaults


def test_postgres_ports(clean_config_env):
    ports = service(POSTGRES_SERVICE)['ports']
    assert len(ports) == 1
    host, container = port_mapping(ports[0])
    assert container == POSTGRES_CONTAINER_PORT
    assert host.endswith('${POSTGRES_PORT:-5432}')
    assert substitute_defaults(host).endswith(str(app.config.postgres_port()))
    assert env_example()['POSTGRES_PORT'][0] == str(app.config.postgres_port())
    # inside the compose network the app talks to the container port, not the published one
    assert service(APP_SERVICE)['environment']['POSTGRES_PORT'] == str(POSTGRES_CONTAINER_PORT)


def test_app_port_matches_expose_and_gunicorn_bind():
    ports = service(APP_SERVICE)['ports']
    # the development server logs everybody in as an Admin: published on the host's loopback interface only
    assert [port_mapping(port) for port in ports] == [(f'127.0.0.1:{APP_PORT}', APP_PORT)]
    assert dockerfile_args('EXPOSE') == [str(APP_PORT)]
    cmd = dockerfile_cmd()
    assert cmd[0] == 'gunicorn'
    assert cmd[cmd.index('--bind') + 1] == f'0.0.0.0:{APP_PORT}'
    assert cmd[-1] == 'app.app:wsgi_app'
    assert f"127.0.0.1:{APP_PORT}/" in read('.scripts/docker/app/healthcheck.py')


# ---------------------------------------------------------------- (d) production defaults, no dev hacks

def test_default_command_disallows_runs_from_the_web_ui(clean_config_env):
    """What the app reads in the image: its ENV, and settings that its CMD sets before the server."""
    cmd = dockerfile_cmd()
    settings = dockerfile_env() | dict(item.split('=', 1) for item in cmd if re.fullmatch(r'[A-Z_]+=.*', item))
    for name, value in settings.items():
        clean_config_env.setenv(name, value)
    assert app.config.allow_run_from_web_ui() is False
    assert not dockerfile_args('ENTRYPOINT'), 'an ENTRYPOINT could change what the CMD runs'


def test_no_dev_hacks_or_secrets_in_the_dockerfile():
    text = read('Dockerfile')
    code = '\n'.join(f'{keyword} {arguments}' for keyword, arguments in dockerfile_instructions())
    assert 'sudo' not in code.lower()
    assert 'NOPASSWD' not in text
    assert not re.search(r'\b(curl|wget)\b[^\n]*\|\s*(ba|z)?sh\b', code), 'no curl | sh'
    assert not re.search(r'\b(zsh|oh-my-zsh)\b', code)
    env = dockerfile_env()
    for key in env:
        assert not re.search(r'PASSWORD|SECRET|TOKEN|CREDENTIALS', key), f'ENV {key} bakes a secret into the image'
    assert dockerfile_args('USER') == ['${MARA_UID}']
    assert dockerfile_arg_default('MARA_UID') not in ('', '0'), 'by default, the app must not run as root'


def native_system_packages() -> list[str]:
    """The Debian packages that `make install-system-packages` installs for the app on a machine of its own."""
    found = re.search(r'^  for package in (.*); do need "\$package"; done$', read('.scripts/install-system-packages.sh')
                      .split('elif')[-1], flags=re.MULTILINE)
    return found[1].split()


def test_dockerfile_installs_system_packages_and_dependencies_first():
    runs = dockerfile_args('RUN')
    apt = next(run for run in runs if 'apt-get install' in run)
    # what the native setup installs, but the client of the server (it runs in its own container) and no venv tool
    # (the image's Python is the app's)
    needed = {'postgresql': 'postgresql-client', 'python3-venv': None}
    packages = [needed.get(package, package) for package in native_system_packages()]
    assert 'graphviz' in packages and 'postgresql-client' in packages
    for package in filter(None, packages):
        assert re.search(rf'\s{re.escape(package)}(\s|$)', apt), package
    assert 'rm -rf /var/lib/apt/lists/*' in apt
    assert any('pip install --no-cache-dir -r requirements.txt.freeze' in run for run in runs)
    instructions = dockerfile_instructions()
    copies = [index for index, (keyword, _) in enumerate(instructions) if keyword == 'COPY']
    pip = next(index for index, (keyword, arguments) in enumerate(instructions)
               if keyword == 'RUN' and 'requirements.txt.freeze' in arguments)
    assert instructions[copies[0]][1].split()[0] == 'requirements.txt.freeze'
    assert copies[0] < pip < copies[1], 'copy the requirements, install them, then copy the app (layer cache)'
    # the code is where compose mounts the checkout, and where the healthcheck's script is
    workdir = dockerfile_args('WORKDIR')
    assert workdir == [target for source, target in bind_mounts(service(APP_SERVICE)) if source == '.']
    assert exec_form(dockerfile_args('HEALTHCHECK')[0].split('CMD', 1)[1].strip())[-1].startswith(workdir[0] + '/')


# ---------------------------------------------------------------- (e) Python 3.11

def test_the_base_image_is_the_python_and_debian_the_tests_run_on():
    base, = dockerfile_args('FROM')
    found = re.fullmatch(r'python:(?P<python>\d+\.\d+)-slim-(?P<debian>[a-z]+)', base)
    assert found, base
    assert found['python'] == f'{sys.version_info.major}.{sys.version_info.minor}' == '3.11'
    lines = pathlib.Path('/etc/os-release').read_text().splitlines()
    release = dict(line.split('=', 1) for line in lines if '=' in line)
    if release.get('ID') == 'debian':  # the system packages were tested on this release
        assert found['debian'] == release['VERSION_CODENAME'].strip('"')


# ---------------------------------------------------------------- (f) any MARA_UID, a writable data/

def dockerfile_run(containing: str) -> str:
    runs = [arguments for arguments in dockerfile_args('RUN') if containing in arguments]
    assert len(runs) == 1, (containing, runs)
    return runs[0]


def _uid_cases() -> dict:
    """uids for which the image must build: root, a user that exists, a free id, a group id without its user."""
    import grp
    import pwd
    users = {user.pw_uid for user in pwd.getpwall()}
    free = next(uid for uid in range(4200, 5000) if uid not in users and uid not in {g.gr_gid for g in grp.getgrall()})
    group_only = next(group.gr_gid for group in grp.getgrall() if group.gr_gid not in users and group.gr_gid > 0)
    existing = next(user.pw_uid for user in pwd.getpwall() if user.pw_uid >= 1000 and user.pw_uid < 65534)
    return {'root': 0, 'existing user': existing, 'free id': free, 'group without user': group_only}


@pytest.mark.parametrize('case', list(_uid_cases()))
def test_the_user_and_data_instructions_work_for_any_mara_uid(case, tmp_path):
    """The Dockerfile's own RUN instructions, run by the real groupadd/useradd on an overlay of this machine's
    /etc and /home in a mount namespace of their own (nothing changes outside). Then the app's uid, as
    `USER ${MARA_UID}` sets it, must be able to write into the data directory."""
    uid = _uid_cases()[case]
    data = '/home/mara-test/data'  # inside the overlay; its parents are open to every user, as /mara is in the image
    create_user = dockerfile_run('useradd')
    make_data_dir = dockerfile_run('chown').replace('/mara/data', data)
    for name in ('etc', 'home'):
        (tmp_path / f'{name}-upper').mkdir()
        (tmp_path / f'{name}-work').mkdir()
    overlays = ' && '.join(f'mount -t overlay overlay -o lowerdir=/{name},upperdir={tmp_path}/{name}-upper,'
                           f'workdir={tmp_path}/{name}-work /{name}' for name in ('etc', 'home'))
    script = (f'{overlays} && sh -ec {shlex.quote(create_user)} && sh -ec {shlex.quote(make_data_dir)} '
              f'&& setpriv --reuid="$MARA_UID" --regid="$(id -g "$MARA_UID")" --clear-groups '
              f'touch {data}/written-by-the-app && stat -c %u {data}/written-by-the-app '
              f'&& getent passwd "$MARA_UID" | cut -d: -f3')
    import os
    import subprocess
    result = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'sh', '-ec', script],
                            env=dict(os.environ, MARA_UID=str(uid)), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(uid), str(uid)]  # the app's file, and the user of that uid
    assert not (pathlib.Path('/home/mara-test').exists() or 'mara:' in pathlib.Path('/etc/passwd').read_text())


def test_a_development_container_with_an_unwritable_data_dir_stops_with_the_fix():
    """The dev command checks ./data first (compose turns $$ into $); here as `nobody`, for whom /mara/data is not
    writable, it must stop with the advice, before flask starts."""
    import subprocess
    script = service(APP_SERVICE)['command'][-1].replace('$$', '$')
    result = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script],
                            capture_output=True, text=True, timeout=60, cwd='/')
    assert result.returncode == 1
    assert result.stderr.strip() == ("ERROR: ./data is not writable by the container's uid 65534: set MARA_UID to "
                                     'your uid (id -u) in .env, then docker compose up --build')
    assert result.stdout == ''


# ---------------------------------------------------------------- (g) no development tools in production

def requirement_names(path: str) -> set:
    return {re.split(r'[=<>!~ ;\[]', line.strip())[0].lower().replace('_', '-')
            for line in read(path).splitlines() if line.strip() and not line.startswith('#')}


def test_the_production_image_gets_no_development_tools():
    dev = requirement_names('requirements-dev.txt')
    assert {'pytest', 'playwright', 'ruff', 'pyyaml'} <= dev
    assert dev & requirement_names('requirements.txt.freeze') == set()
    assert dev & requirement_names('requirements.txt') == set()
    assert all('==' in line for line in read('requirements-dev.txt').splitlines() if line and line[0] != '#')
    assert dockerfile_arg_default('INSTALL_DEV_REQUIREMENTS') == 'false'
    install = dockerfile_run('requirements-dev.txt')
    assert install.startswith('if [ "${INSTALL_DEV_REQUIREMENTS}" = true ]; then pip install')
    assert service(APP_SERVICE)['build']['args']['INSTALL_DEV_REQUIREMENTS'] == 'true'  # the development image


def test_the_freeze_alone_has_everything_the_app_needs():
    """Each frozen package's requirements are frozen too, and the app with its commands imports no dev tool."""
    import importlib.metadata
    import subprocess

    from packaging.requirements import Requirement
    frozen = requirement_names('requirements.txt.freeze')
    missing = {}
    for name in frozen:
        for requirement in map(Requirement, importlib.metadata.requires(name) or []):
            if (requirement.marker is None or requirement.marker.evaluate({'extra': ''})) and \
                    requirement.name.lower().replace('_', '-') not in frozen:
                missing.setdefault(name, []).append(str(requirement))
    assert missing == {}
    code = ('import sys, app.app; app.app.app.cli.list_commands(None); '
            'print(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:])))')
    modules = ['pytest', '_pytest', 'playwright', 'yaml', 'ruff', 'iniconfig', 'pluggy']
    result = subprocess.run([sys.executable, '-c', code, *modules], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            env={**__import__('os').environ, 'PYTHONPATH': str(PROJECT_ROOT)})
    assert (result.returncode, result.stdout.strip()) == (0, '[]'), result.stderr


# ---------------------------------------------------------------- (h) the production command, as the image runs it

def test_the_images_command_refuses_the_default_secret_key(clean_config_env):
    """The Dockerfile's CMD, bound to a free loopback port instead of 0.0.0.0:5000."""
    import os
    import subprocess

    from tests.support.servers import free_port
    cmd = dockerfile_cmd()
    cmd[cmd.index('--bind') + 1] = f'127.0.0.1:{free_port()}'
    cmd[0] = str(PROJECT_ROOT / '.venv' / 'bin' / cmd[0])
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, **dockerfile_env()})
    assert result.returncode != 0
    assert 'Not starting: production needs SECRET_KEY set to a random value of at least 32 characters' in result.stderr


def test_the_readme_documents_every_variable():
    readme = read('README.md')
    documented = set(re.findall(r'`([A-Z][A-Z0-9_]+)`', readme))
    needed = config_variables() | set(env_example()) | {'INSTALL_DEV_REQUIREMENTS'}
    assert needed - documented == set()
    assert '## Security' in readme
