"""Rendering pod log lines with the apiserver's `pods/log` options."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from karmada_sim import errors
from karmada_sim.clock import parse_time

LogLine = tuple[datetime, str]


@dataclass(frozen=True)
class LogOptions:
    """The query parameters of `GET …/pods/{name}/log`."""

    container: str | None = None
    follow: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None

    @classmethod
    def from_query(cls, query: dict[str, str]) -> LogOptions:
        """Parse and validate the query parameters (bad values are 400/422 as upstream)."""

        def number(name: str) -> int | None:
            raw = query.get(name)
            if raw is None or raw == "":
                return None
            try:
                return int(raw)
            except ValueError as exc:
                raise errors.bad_request(
                    f'strconv.ParseInt: parsing "{raw}": invalid syntax for {name}'
                ) from exc

        since_time = None
        if query.get("sinceTime"):
            try:
                since_time = parse_time(query["sinceTime"])
            except ValueError as exc:
                raise errors.bad_request(f"invalid sinceTime {query['sinceTime']!r}") from exc
        options = cls(
            container=query.get("container") or None,
            follow=parse_bool(query.get("follow")),
            tail_lines=number("tailLines"),
            since_seconds=number("sinceSeconds"),
            since_time=since_time,
            timestamps=parse_bool(query.get("timestamps")),
            limit_bytes=number("limitBytes"),
        )
        for name, value in (
            ("sinceSeconds", options.since_seconds),
            ("limitBytes", options.limit_bytes),
        ):
            if value is not None and value < 1:
                raise errors.ApiError(
                    422,
                    "Invalid",
                    f'PodLogOptions "" is invalid: {name}: Invalid value: {value}: '
                    "must be greater than 0",
                )
        if options.tail_lines is not None and options.tail_lines < 0:
            raise errors.ApiError(
                422,
                "Invalid",
                f'PodLogOptions "" is invalid: tailLines: Invalid value: '
                f"{options.tail_lines}: must be greater than or equal to 0",
            )
        if options.since_seconds is not None and options.since_time is not None:
            raise errors.ApiError(
                422,
                "Invalid",
                'PodLogOptions "" is invalid: [sinceSeconds: Forbidden: at most '
                "one of `sinceTime` or `sinceSeconds` may be specified]",
            )
        return options


def parse_bool(raw: str | None) -> bool:
    """Query booleans as the apiserver reads them: anything but absent, "", "0", "false"."""
    return raw is not None and raw.lower() not in ("", "0", "false")


def _format(moment: datetime, line: str, timestamps: bool) -> str:
    if not timestamps:
        return line + "\n"
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return f"{stamp} {line}\n"


def select_lines(lines: list[LogLine], options: LogOptions, now: datetime) -> list[LogLine]:
    """Apply sinceSeconds/sinceTime then tailLines to the lines produced so far."""
    cutoff = options.since_time
    if options.since_seconds is not None:
        cutoff = now - timedelta(seconds=options.since_seconds)
    if cutoff is not None:
        lines = [entry for entry in lines if entry[0] >= cutoff]
    if options.tail_lines is not None:
        lines = lines[-options.tail_lines :] if options.tail_lines else []
    return lines


def render(lines: list[LogLine], options: LogOptions) -> bytes:
    """The text body for these lines (timestamps prefix when asked)."""
    return "".join(_format(moment, line, options.timestamps) for moment, line in lines).encode()


def truncate(body: bytes, budget: int | None) -> bytes:
    """Cut `body` to the remaining `limitBytes` budget (None: no limit)."""
    return body if budget is None else body[:budget]
