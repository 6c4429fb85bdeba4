"""What a server process sets up before its first request.

Left to the first report, it would make that one take seconds instead of
milliseconds: the classifier loads the active model (and its stemmers), and
the similarity index and the grouping (ml.grouping) learn their term and character
weights from the bundled corpus.
gunicorn.conf.py calls `warm_up` in every worker; other servers get it from
the factory with WARM_UP_MODEL=1 (for `flask run`, say).
"""

import logging

from flask import Flask

from app.services.classification import WARM_UP_TEXTS, load_active_classifier
from app.services.similarity import text_vector
from ml import grouping
from ml.errors import ModelError

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> bool:
    """Load the active model and the similarity and grouping weights; whether a model was
    loaded.

    A missing or broken model never keeps the server from starting: it serves
    all the same, and reports are stored unclassified, as when the model fails
    at submission (`flask ml reclassify` classifies them later).
    """
    with app.app_context():
        text_vector(WARM_UP_TEXTS[0])
        grouping.vectorize(WARM_UP_TEXTS[0])
        try:
            version = load_active_classifier()
        except ModelError as error:
            log.warning("no model loaded at start, reports stay unclassified: %s", error)
            return False
        except Exception:  # a broken artifact or database must not stop the server either
            log.exception("no model loaded at start, reports stay unclassified")
            return False
    log.info("model version %s loaded", version.id)
    return True
