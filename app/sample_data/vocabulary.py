"""Small hand-written vocabularies for made-up GitHub users and repositories."""

FIRST_NAMES = (
    'aaron', 'adam', 'ahmed', 'aisha', 'alex', 'alice', 'amir', 'ana', 'andrea', 'andrew', 'anna', 'anton',
    'arjun', 'ben', 'bruno', 'carla', 'carlos', 'chen', 'chris', 'daniel', 'david', 'diego', 'dmitry',
    'elena', 'emma', 'eric', 'fatima', 'felix', 'fernando', 'gabriel', 'george', 'hana', 'hao', 'hiro',
    'igor', 'ivan', 'jack', 'jakub', 'james', 'jan', 'jason', 'jin', 'joao', 'john', 'jonas', 'jose',
    'julia', 'kai', 'karan', 'kate', 'kenji', 'kevin', 'lars', 'laura', 'lei', 'leo', 'li', 'lin',
    'lucas', 'luis', 'maria', 'mark', 'martin', 'max', 'mehmet', 'mei', 'michael', 'mike', 'ming',
    'mohamed', 'nadia', 'nick', 'nikita', 'nina', 'olga', 'omar', 'oscar', 'pablo', 'paul', 'pedro',
    'peter', 'priya', 'rahul', 'ravi', 'ricardo', 'rosa', 'ryan', 'sam', 'sara', 'sergey', 'shun',
    'simon', 'sofia', 'stefan', 'tom', 'tomas', 'vera', 'victor', 'wei', 'xin', 'yan', 'yuki', 'yusuf',
    'zhang', 'zoe',
)

LAST_NAMES = (
    'ali', 'anderson', 'bauer', 'becker', 'brown', 'chen', 'costa', 'cruz', 'dubois', 'fischer', 'garcia',
    'gomez', 'gupta', 'hansen', 'hoffmann', 'huang', 'ivanov', 'jensen', 'johnson', 'kim', 'klein',
    'kowalski', 'kumar', 'lee', 'li', 'lin', 'liu', 'lopez', 'martin', 'meyer', 'miller', 'moreau',
    'muller', 'nakamura', 'nguyen', 'novak', 'olsen', 'park', 'patel', 'perez', 'petrov', 'rossi',
    'santos', 'sato', 'schmidt', 'schulz', 'silva', 'singh', 'smith', 'suzuki', 'tanaka', 'taylor',
    'wagner', 'wang', 'weber', 'williams', 'wilson', 'wong', 'wu', 'xu', 'yamamoto', 'yang', 'zhao',
    'zhou',
)

# Repository names that many users have (a share of all unrelated repositories).
COMMON_REPOSITORIES = (
    'dotfiles', 'blog', 'my-website', 'portfolio', 'hello-world', 'test', 'demo', 'notes', 'homework',
    'leetcode', 'leetcode-solutions', 'advent-of-code', 'algorithms', 'data-structures', 'resume',
    'learning-python', 'python-practice', 'python-exercises', 'machine-learning', 'data-science',
    'deep-learning', 'website', 'my-project', 'project', 'exercises', 'scripts', 'config', 'docs',
    'tutorial', 'tutorials', 'playground', 'sandbox', 'first-repo', 'todo-app', 'weather-app',
    'chat-app', 'discord-bot', 'telegram-bot', 'web-scraper', 'portfolio-website', 'personal-website',
    'react-app', 'django-blog', 'flask-app', 'flask-api', 'final-project', 'capstone-project',
    'coursework', 'assignments', 'lab', 'labs', 'practice', 'snippets', 'cheatsheets', 'awesome-list',
    'nvim-config', 'vimrc', 'kaggle', 'kaggle-competitions', 'mnist', 'titanic', 'stock-prediction',
)

# Owners of well-known projects whose repository is not under a user of the same name.
KNOWN_OWNERS = {
    'flask': 'pallets', 'jinja2': 'pallets', 'click': 'pallets', 'werkzeug': 'pallets',
    'markupsafe': 'pallets', 'itsdangerous': 'pallets', 'requests': 'psf', 'black': 'psf',
    'boto3': 'boto', 'botocore': 'boto', 'numpy': 'numpy', 'pandas': 'pandas-dev', 'django': 'django',
    'pytest': 'pytest-dev', 'pip': 'pypa', 'setuptools': 'pypa', 'packaging': 'pypa', 'wheel': 'pypa',
    'virtualenv': 'pypa', 'urllib3': 'urllib3', 'certifi': 'certifi', 'six': 'benjaminp',
    'sqlalchemy': 'sqlalchemy', 'scipy': 'scipy', 'matplotlib': 'matplotlib', 'pydantic': 'pydantic',
    'fastapi': 'fastapi', 'cryptography': 'pyca', 'pyyaml': 'yaml', 'idna': 'kjd',
    'python-dateutil': 'dateutil', 'typing-extensions': 'python', 'attrs': 'python-attrs',
}
