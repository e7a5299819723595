"""The API's JSON parser (settings.REST_FRAMEWORK DEFAULT_PARSER_CLASSES): DRF's, plus the input
hygiene of jusou.hygiene for bodies, so a refused body never reaches a serializer or the database.

- Nesting deeper than API_JSON_MAX_DEPTH or more than API_JSON_MAX_ELEMENTS values in all: 400
  (`too_deep` / `too_many_elements`). A body nested 1,000 deep (2 KB) would otherwise exhaust the
  recursion of the parser or of whatever walks the data next (RecursionError, a 500).
- A string or key with a control character (but tab, line feed, carriage return) or a lone
  surrogate: 400 `invalid_character`, naming the field (`new_person.attributes[0]`); the message says
  which of the two it is (a surrogate is no control character: 「文字として読めない値」).

The walk is iterative, so the check itself cannot recurse.
"""

from django.conf import settings
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import JSONParser

from jusou.hygiene import ERROR_CODE, TEXT_FORBIDDEN, character_message, first_forbidden, printable_name

MAX_REPORTED = 20


def _too_deep():
    return ValidationError(
        [ErrorDetail(f"JSON の入れ子が深すぎます（{settings.API_JSON_MAX_DEPTH}段まで）。", code="too_deep")]
    )


def body_problems(data) -> ValidationError | None:
    """The refusal for `data` (parsed JSON), or None when it is clean."""
    max_depth, max_elements = settings.API_JSON_MAX_DEPTH, settings.API_JSON_MAX_ELEMENTS
    errors: dict[str, list[ErrorDetail]] = {}
    stack = [(data, 1, "")]
    count = 0
    while stack:
        value, depth, path = stack.pop()
        count += 1
        if count > max_elements:
            return ValidationError(
                [
                    ErrorDetail(
                        f"JSON の要素が多すぎます（{max_elements:,}個まで）。", code="too_many_elements"
                    )
                ]
            )
        if isinstance(value, dict | list):
            if depth > max_depth:
                return _too_deep()
            if isinstance(value, dict):
                for key, item in value.items():
                    name = f"{path}.{printable_name(key)}" if path else printable_name(key)
                    if (found := first_forbidden(TEXT_FORBIDDEN, [key])) and len(errors) < MAX_REPORTED:
                        errors[name] = [ErrorDetail(character_message(name, found), code=ERROR_CODE)]
                    stack.append((item, depth + 1, name))
            else:
                stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value))
        elif (
            isinstance(value, str)
            and (found := first_forbidden(TEXT_FORBIDDEN, [value]))
            and (len(errors) < MAX_REPORTED)
        ):
            errors[path or "non_field_errors"] = [
                ErrorDetail(character_message(path or "本文", found), code=ERROR_CODE)
            ]
    return ValidationError(dict(sorted(errors.items()))) if errors else None


class HygienicJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        refusal = body_problems(data)
        if refusal is not None:
            raise refusal
        return data
