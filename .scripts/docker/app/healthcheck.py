"""Docker HEALTHCHECK of the app container: exit 0 when the web server answers HTTP.

An HTTP error status still proves that the server is up (production answers 403 to a request without
the login proxy's header); only a refused or timed-out connection makes the container unhealthy.
Stdlib only, so that the check needs nothing beyond the Python of the image.
"""

import sys
import urllib.error
import urllib.request

URL = 'http://127.0.0.1:5000/'


def main() -> int:
    try:
        urllib.request.urlopen(URL, timeout=4)
    except urllib.error.HTTPError:
        return 0
    except (urllib.error.URLError, OSError) as error:
        print(f'{URL}: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
