"""Flask extensions, created unbound and initialised by the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
#: Limits are declared on the views (app.throttle); none apply by default.
limiter = Limiter(key_func=lambda: "global")
migrate = Migrate()
