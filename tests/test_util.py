import json
import math

import pytest

from spacy_cluener.util import json_line


def test_json_line_is_strict_json():
    assert json.loads(json_line({"id": 1.5, "text": "张三\u2028"})) == {"id": 1.5, "text": "张三\u2028"}
    # NaN/Infinity are not JSON: Label Studio's JSON.parse refuses them
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError):
            json_line({"id": value})
