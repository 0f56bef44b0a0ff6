"""One API server's storage: the Karmada control plane or one member cluster.

Storage (versions, conflicts, pagination) lives here; the watch cache, the garbage collector
and the namespace lifecycle are their own modules, as they are separate parts of Kubernetes.
Single-threaded by design: every call happens on the simulator's asyncio loop, so there are no
locks. Stored objects are never mutated in place; each write stores a new dict, so the cached
JSON bytes of an entry stay valid and LIST bodies are built by joining bytes.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import secrets
import string
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from karmada_sim import errors
from karmada_sim.clock import Clock
from karmada_sim.garbage import GarbageCollector
from karmada_sim.namespaces import SYSTEM_NAMESPACES, NamespaceLifecycle
from karmada_sim.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from karmada_sim.resources import JOB, NAMESPACE, Resource
from karmada_sim.selectors import (
    parse_field_selector,
    parse_label_selector,
)
from karmada_sim.watchcache import (
    Event,
    WatchCache,
    WatchCacheSettings,
    Watcher,
    field_selectors,
    view,
)

log = structlog.get_logger()

Listener = Callable[[str, Resource, dict[str, Any]], None]
# A mutating admission webhook for creates: may change the object before it is stored.
Admission = Callable[[Resource, dict[str, Any]], None]
Key = tuple[str, str]  # (namespace or "", name)

_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def random_suffix(length: int = 5) -> str:
    """Lowercase alphanumerics, as the apiserver's generateName and KubeRay use."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def clone(value: Any) -> Any:
    """A deep copy of a JSON document (several times faster than `copy.deepcopy`)."""
    return orjson.loads(orjson.dumps(value))


def _valid_subdomain(name: str) -> bool:
    if not name or len(name) > 253:
        return False
    for label in name.split("."):
        if not label or not label[0].isalnum() or not label[-1].isalnum():
            return False
        if any(not (c.isdigit() or ("a" <= c <= "z") or c == "-") for c in label):
            return False
    return True


class Entry:
    """A stored object and its serialised JSON, computed once per write."""

    __slots__ = ("_raw", "obj")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        """The object as JSON bytes."""
        if self._raw is None:
            self._raw = orjson.dumps(self.obj)
        return self._raw

    def copy(self) -> dict[str, Any]:
        """A deep copy the caller may change freely."""
        loaded: dict[str, Any] = orjson.loads(self.raw)
        return loaded


@dataclass(frozen=True)
class Snapshot:
    """A store's objects and resourceVersion counter at one moment."""

    resource_version: int
    objects: tuple[tuple[Resource, dict[str, Any]], ...]


@dataclass
class ListPage:
    """One page of a LIST: the items, the list resourceVersion and the continue token."""

    entries: list[Entry]
    resource_version: str
    continue_token: str
    remaining: int | None

    @property
    def items(self) -> list[dict[str, Any]]:
        """Deep copies of the listed objects."""
        return [entry.copy() for entry in self.entries]

    @property
    def raw_items(self) -> list[bytes]:
        """The listed objects as JSON bytes (for building response bodies)."""
        return [entry.raw for entry in self.entries]


@dataclass
class _Table:
    """All objects of one resource, with a namespace index and keys kept in sorted order."""

    entries: dict[Key, Entry] = field(default_factory=dict)
    by_namespace: dict[str, dict[str, Entry]] = field(default_factory=dict)
    # (namespace, name) in order, maintained by insertion (a memmove, not a re-sort per LIST)
    sorted_keys: list[Key] = field(default_factory=list)

    def put(self, key: Key, entry: Entry) -> None:
        if key not in self.entries:
            bisect.insort(self.sorted_keys, key)
        self.entries[key] = entry
        self.by_namespace.setdefault(key[0], {})[key[1]] = entry

    def pop(self, key: Key) -> None:
        if self.entries.pop(key, None) is not None:
            index = bisect.bisect_left(self.sorted_keys, key)
            del self.sorted_keys[index]
        names = self.by_namespace.get(key[0])
        if names is not None:
            names.pop(key[1], None)
            if not names:
                del self.by_namespace[key[0]]

    def keys_in_order(self) -> list[Key]:
        return self.sorted_keys


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    """Everything that counts for `generation`: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class Store:
    """One API server's objects with apiserver semantics (versions, conflicts, GC, watch)."""

    def __init__(
        self, *, name: str, clock: Clock, watch_cache: WatchCacheSettings | None = None
    ) -> None:
        self.name = name
        self.clock = clock
        self._tables: dict[Resource, _Table] = {}
        self._rv = 0
        self._listeners: list[Listener] = []
        self._admission: list[Admission] = []
        self.watch_cache = WatchCache(clock=clock, settings=watch_cache or WatchCacheSettings())
        self.gc = GarbageCollector(self)
        self.namespaces = NamespaceLifecycle(self)
        for namespace in SYSTEM_NAMESPACES:
            self.namespaces.ensure(namespace)

    # ----------------------------------------------------------------------------- reads

    @property
    def resource_version(self) -> str:
        """The store's current resourceVersion (what a LIST reports)."""
        return str(self._rv)

    def table(self, res: Resource) -> _Table:
        """All objects of one resource (read-only for callers)."""
        table = self._tables.get(res)
        if table is None:
            table = self._tables[res] = _Table()
        return table

    def key(self, res: Resource, namespace: str | None, name: str) -> Key:
        """The table key of an object."""
        return ((namespace or "") if res.namespaced else "", name)

    def _entry(self, res: Resource, namespace: str | None, name: str) -> Entry:
        entry = self.table(res).entries.get(self.key(res, namespace, name))
        if entry is None:
            raise errors.not_found(res, name)
        return entry

    def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        """A copy of one object; 404 NotFound when absent."""
        return self._entry(res, namespace, name).copy()

    def get_entry(self, res: Resource, namespace: str | None, name: str) -> Entry:
        """One object's entry (read-only object plus cached JSON); 404 NotFound when absent."""
        return self._entry(res, namespace, name)

    def find(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of one object, or None."""
        entry = self.table(res).entries.get(self.key(res, namespace, name))
        return entry.copy() if entry is not None else None

    def items(self, res: Resource, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Live read-only views of the objects of a resource (do not mutate them)."""
        table = self.table(res)
        source = (
            table.entries.values()
            if namespace is None or not res.namespaced
            else table.by_namespace.get(namespace, {}).values()
        )
        for entry in list(source):
            yield entry.obj

    def count(self, res: Resource) -> int:
        """How many objects of a resource exist."""
        return len(self.table(res).entries)

    def list(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        exact_resource_version: int | None = None,
        from_cache: bool = False,
    ) -> ListPage:
        """LIST with selectors and `limit`/`continue` pagination in (namespace, name) order.

        Every page of a paginated list, and a list at an exact resourceVersion, shows the
        objects as they were at that version (etcd's MVCC read), rebuilt from the history.
        `from_cache` answers from the watch cache: the objects as of the last write it has
        delivered, which may trail storage.
        """
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, self.field_selectors(res))
        list_rv, after = (
            self._decode_continue(continue_token) if continue_token else (self._rv, None)
        )
        if exact_resource_version is not None and not continue_token:
            list_rv = self._check_exact(exact_resource_version)
        elif from_cache and not continue_token:
            list_rv = self.watch_cache.resource_version
        table = self.table(res) if list_rv == self._rv else self._table_at(res, list_rv)
        if namespace is not None and res.namespaced:
            # One namespace is a contiguous run of the sorted (namespace, name) keys.
            ordered = table.keys_in_order()
            low = bisect.bisect_left(ordered, (namespace, ""))
            high = bisect.bisect_left(ordered, (namespace + "\x00", ""))
            keys = ordered[low:high]
        else:
            keys = table.keys_in_order()
        start = bisect.bisect_right(keys, after) if after is not None else 0
        name_pin = fields.exact("metadata.name")
        entries: list[Entry] = []
        more = False
        check_fields = bool(fields.requirements)
        check_labels = not labels.empty
        for key in keys[start:]:
            if name_pin is not None and key[1] != name_pin:
                continue
            entry = table.entries[key]
            obj = entry.obj
            if check_labels and not labels.matches(obj["metadata"].get("labels")):
                continue
            if check_fields and not fields.matches(obj):
                continue
            if limit and len(entries) == limit:
                more = True
                break
            entries.append(entry)
        token = ""
        remaining: int | None = None
        if more:
            last = self.key(
                res,
                entries[-1].obj["metadata"].get("namespace"),
                entries[-1].obj["metadata"]["name"],
            )
            token = self._encode_continue(list_rv, last)
            if not check_labels and not check_fields and name_pin is None:
                remaining = len(keys) - bisect.bisect_right(keys, last)
        return ListPage(entries, str(list_rv), token, remaining)

    field_selectors = staticmethod(field_selectors)

    def _check_exact(self, resource_version: int) -> int:
        if resource_version > self._rv:
            raise errors.too_large_resource_version(resource_version, self._rv)
        if resource_version <= self.watch_cache.compacted_rv:
            raise errors.expired("The resourceVersion for the provided list is too old.")
        return resource_version

    def _table_at(self, res: Resource, resource_version: int) -> _Table:
        """The objects of `res` as they were at `resource_version` (undoing later writes)."""
        entries = dict(self.table(res).entries)
        for event in reversed(self.watch_cache.events_after(resource_version)):
            if event.res != res:
                continue
            meta = event.obj["metadata"]
            key = self.key(res, meta.get("namespace"), meta["name"])
            if event.old is None:
                entries.pop(key, None)
            else:
                entries[key] = Entry(event.old)
        table = _Table(entries=entries, sorted_keys=sorted(entries))
        for (namespace, name), entry in entries.items():
            table.by_namespace.setdefault(namespace, {})[name] = entry
        return table

    def _encode_continue(self, list_rv: int, last: Key) -> str:
        payload = orjson.dumps({"v": "meta.k8s.io/v1", "rv": list_rv, "start": list(last)})
        return base64.urlsafe_b64encode(payload).decode()

    def _decode_continue(self, token: str) -> tuple[int, Key]:
        try:
            data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
            list_rv = int(data["rv"])
            namespace, name = data["start"]
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.bad_request(f"continue key is not valid: {exc}") from exc
        if list_rv <= self.watch_cache.compacted_rv:
            raise errors.expired(
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter, or use the "
                "continue token in this response to retrieve the remainder of the results. "
                "Continuing with the provided token results in an inconsistent list - objects "
                "that were created, modified, or deleted between the time the first chunk was "
                "returned and now may show up in the list."
            )
        return list_rv, (str(namespace), str(name))

    # ---------------------------------------------------------------------------- writes

    def create(
        self,
        res: Resource,
        obj: dict[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Create an object and return a copy as stored (uid, timestamps, versions set).

        With `dry_run` every check runs but nothing is stored: the answer has no
        resourceVersion, as the apiserver's dry run answers."""
        obj = clone(obj)
        meta = _meta(obj)
        if res.namespaced:
            body_ns = meta.get("namespace")
            if namespace is not None and body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            namespace = namespace or body_ns or "default"
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
            namespace = None
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{random_suffix()}"
            meta["name"] = name
        self._validate_name(res, name)
        key = self.key(res, namespace, name)
        table = self.table(res)
        if key in table.entries:
            raise errors.already_exists(res, name)
        if namespace is not None:
            self.namespaces.admit(namespace)
        for admit in self._admission:
            admit(res, obj)
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.timestamp()
        if res.status_subresource or res.custom:
            meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        meta.pop("resourceVersion", None)
        if dry_run:
            return clone(obj)
        self.write(res, key, obj, None, "ADDED")
        return self._entry(res, namespace, name).copy()

    def _validate_name(self, res: Resource, name: str) -> None:
        if not name:
            raise errors.invalid(
                res,
                "",
                [
                    errors.field_error(
                        "metadata.name", "FieldValueRequired", "name or generateName is required"
                    )
                ],
            )
        if not _valid_subdomain(name):
            raise errors.invalid(
                res,
                name,
                [
                    errors.field_error(
                        "metadata.name", "FieldValueInvalid", _DNS1123_SUBDOMAIN_MSG, name
                    )
                ],
            )

    def replace(
        self,
        res: Resource,
        obj: dict[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PUT: replace an object (or only its status with `subresource="status"`)."""
        meta = _meta(obj)
        name = meta.get("name") or ""
        namespace = meta.get("namespace") if res.namespaced else None
        entry = self._entry(res, namespace, name)
        sent_rv = meta.get("resourceVersion")
        current = entry.obj
        if sent_rv:
            if str(sent_rv) != current["metadata"]["resourceVersion"]:
                raise errors.conflict(res, name)
        elif res.custom:
            raise errors.invalid(
                res,
                name,
                [
                    errors.field_error(
                        "metadata.resourceVersion",
                        "FieldValueInvalid",
                        "must be specified for an update",
                        0,
                    )
                ],
            )
        return self._update(res, entry, clone(obj), subresource=subresource, dry_run=dry_run)

    def update_status(
        self, res: Resource, namespace: str | None, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        """Controller helper: set `.status` (no generation bump); a no-op write changes nothing."""
        entry = self._entry(res, namespace, name)
        new = dict(entry.obj)
        new["status"] = clone(status)
        return self._update(res, entry, new, subresource="status")

    def patch(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        patch_type: str,
        subresource: str | None = None,
        dry_run: bool = False,
        admit: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """PATCH with `merge`, `json` or `strategic` (built-in kinds only) semantics; `admit`
        decodes the patched object (pruning, validation) before it is stored."""
        entry = self._entry(res, namespace, name)
        current = entry.copy()
        try:
            if patch_type == "merge":
                if not isinstance(patch, dict):
                    raise errors.bad_request("a merge patch must be a JSON object")
                patched = merge_patch(current, patch)
            elif patch_type == "json":
                patched = json_patch(current, patch)
            elif patch_type == "strategic":
                if res.custom:
                    raise errors.unsupported_media_type(strategic=False)
                if not isinstance(patch, dict):
                    raise errors.bad_request("a strategic merge patch must be a JSON object")
                patched = strategic_merge_patch(current, patch)
            else:
                raise errors.unsupported_media_type(strategic=not res.custom)
        except PatchError as exc:
            raise errors.ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: {exc}",
                {"causes": [{"message": str(exc)}]},
            ) from exc
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch result is not an object")
        if admit is not None:
            patched = admit(patched)
        meta = _meta(patched)
        sent_rv = meta.get("resourceVersion")
        if sent_rv and str(sent_rv) != entry.obj["metadata"]["resourceVersion"]:
            raise errors.conflict(res, name)
        for immutable in ("name", "namespace"):
            if meta.get(immutable) != entry.obj["metadata"].get(immutable):
                raise errors.invalid(
                    res,
                    name,
                    [
                        errors.field_error(
                            f"metadata.{immutable}",
                            "FieldValueInvalid",
                            "field is immutable",
                            meta.get(immutable),
                        )
                    ],
                )
        return self._update(res, entry, patched, subresource=subresource, dry_run=dry_run)

    def _update(
        self,
        res: Resource,
        entry: Entry,
        new: dict[str, Any],
        *,
        subresource: str | None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        old = entry.obj
        old_meta = old["metadata"]
        if subresource == "status":
            merged = dict(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            new_meta = dict(_meta(new))
            # Server-owned metadata cannot be changed by a write.
            for owned in (
                "uid",
                "creationTimestamp",
                "name",
                "namespace",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "resourceVersion",
            ):
                if owned in old_meta:
                    new_meta[owned] = old_meta[owned]
                else:
                    new_meta.pop(owned, None)
            new["metadata"] = new_meta
            new["apiVersion"] = res.api_version
            new["kind"] = res.kind
            if res.status_subresource:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            if "generation" in old_meta and _spec_part(new) != _spec_part(old):
                new_meta["generation"] = old_meta["generation"] + 1
        if new == old:
            return entry.copy()
        if dry_run:
            return clone(new)
        meta = new["metadata"]
        key = self.key(res, meta.get("namespace"), meta["name"])
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self.remove(res, key, new)
            return orjson.loads(orjson.dumps(new))
        self.write(res, key, new, old, "MODIFIED")
        return self.table(res).entries[key].copy()

    def delete(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        *,
        propagation_policy: str | None = None,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE: remove now, or mark with deletionTimestamp while finalizers remain.

        Returns the object's last state; it still exists exactly when it has a
        deletionTimestamp and `find` returns it. With `dry_run` the checks run and the state
        it would have is returned; nothing changes.
        """
        entry = self._entry(res, namespace, name)
        obj = entry.obj
        meta = obj["metadata"]
        if res == NAMESPACE and not preconditions and not dry_run:
            return self.namespaces.terminate(name)
        if preconditions:
            want_uid = preconditions.get("uid")
            if want_uid and want_uid != meta["uid"]:
                raise errors.conflict(
                    res,
                    name,
                    f"Precondition failed: UID in precondition: {want_uid}, UID in object "
                    f"meta: {meta['uid']}",
                )
            want_rv = preconditions.get("resourceVersion")
            if want_rv and str(want_rv) != meta["resourceVersion"]:
                raise errors.conflict(
                    res,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {want_rv}, "
                    f"ResourceVersion in object meta: {meta['resourceVersion']}",
                )
        policy = propagation_policy or ("Orphan" if res == JOB else "Background")
        if policy not in ("Orphan", "Background", "Foreground"):
            raise errors.invalid(
                res,
                name,
                [
                    errors.field_error(
                        "propagationPolicy",
                        "FieldValueNotSupported",
                        'supported values: "Foreground", "Background", "Orphan", "nil"',
                        policy,
                    )
                ],
            )
        key = self.key(res, namespace, name)
        if dry_run:
            would = clone(obj)
            would["metadata"].setdefault("deletionTimestamp", self.clock.timestamp())
            if policy == "Foreground" and "foregroundDeletion" not in would["metadata"].get(
                "finalizers", []
            ):
                would["metadata"]["finalizers"] = [
                    *would["metadata"].get("finalizers", []),
                    "foregroundDeletion",
                ]
            return would
        if policy == "Orphan":
            self.gc.orphan(meta["uid"])
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            # The apiserver always adds the finalizer (rest.deletionFinalizersForGarbage-
            # Collection); the garbage collector removes it once no blocking dependent is left.
            finalizers.append("foregroundDeletion")
        if meta.get("deletionTimestamp"):
            if finalizers != list(meta.get("finalizers") or []):
                new = dict(obj)
                new["metadata"] = {**meta, "finalizers": finalizers}
                self.write(res, key, new, obj, "MODIFIED")
            return self._collect_foreground(res, key, policy)
        if finalizers:
            new = dict(obj)
            new["metadata"] = {
                **meta,
                "finalizers": finalizers,
                "deletionTimestamp": self.clock.timestamp(),
                "deletionGracePeriodSeconds": 0,
            }
            self.write(res, key, new, obj, "MODIFIED")
            return self._collect_foreground(res, key, policy)
        last = dict(obj)
        last["metadata"] = {**meta, "deletionTimestamp": self.clock.timestamp()}
        self.remove(res, key, last)
        return orjson.loads(orjson.dumps(last))

    def _collect_foreground(self, res: Resource, key: Key, policy: str) -> dict[str, Any]:
        """Answer a DELETE that marked the object: its marked state, as the apiserver answers
        before the garbage collector runs (which here may remove it at once)."""
        marked = self.table(res).entries[key].copy()
        if policy == "Foreground":
            self.gc.collect(marked["metadata"]["uid"])
            self.gc.finish_foreground(res, marked["metadata"])
        return marked

    def remove_finalizer(
        self, res: Resource, namespace: str | None, name: str, finalizer: str
    ) -> None:
        """Drop one finalizer; a deleting object with none left disappears."""
        entry = self.table(res).entries.get(self.key(res, namespace, name))
        if entry is None:
            return
        meta = entry.obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if finalizer not in finalizers:
            return
        finalizers.remove(finalizer)
        new = dict(entry.obj)
        new["metadata"] = {**meta, "finalizers": finalizers}
        if not finalizers:
            del new["metadata"]["finalizers"]
        key = self.key(res, namespace, name)
        if meta.get("deletionTimestamp") and not finalizers:
            self.remove(res, key, new)
        else:
            self.write(res, key, new, entry.obj, "MODIFIED")

    def compact(self) -> None:
        """Forget all history: older continue tokens expire and older watches get 410."""
        self.watch_cache.compact()

    # ------------------------------------------------------------- snapshot and restore

    def snapshot(self) -> Snapshot:
        """Every object and the resourceVersion counter, as they are now (cheap: stored
        objects are never mutated, so the snapshot shares them)."""
        objects = tuple(
            (res, entry.obj)
            for res, table in self._tables.items()
            for entry in table.entries.values()
        )
        return Snapshot(self._rv, objects)

    def continue_from(self, resource_version: int) -> None:
        """Hand out resourceVersions above `resource_version` from now on (after a restart)."""
        if resource_version > self._rv:
            self._rv = resource_version
            self.watch_cache.reset(resource_version)

    def restore(self, snapshot: Snapshot, *, bump: int = 0) -> None:
        """Replace every object with the snapshot's, as after an etcd restore and an apiserver
        restart: the revision counter never goes back (`bump` above the highest either side
        has seen, etcdutl `--bump-revision`), the watch history is gone (`--mark-compacted`:
        every resume and open watch gets 410 Gone, so clients re-list), and in-process
        controllers hear of each difference as their informers' re-list would show it."""
        self.watch_cache.flush()
        before = {
            (res, key): entry.obj
            for res, table in self._tables.items()
            for key, entry in table.entries.items()
        }
        self._tables = {}
        self.gc = GarbageCollector(self)
        after: dict[tuple[Resource, Key], dict[str, Any]] = {}
        for res, obj in snapshot.objects:
            key = self.key(res, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            self.table(res).put(key, Entry(obj))
            self.gc.track(res, key, None, obj)
            after[(res, key)] = obj
        self._rv = max(self._rv, snapshot.resource_version) + bump
        self.watch_cache.reset(self._rv)
        for (res, key), obj in before.items():
            if (res, key) not in after:
                self._notify("DELETED", res, obj)
        for (res, key), obj in after.items():
            old = before.get((res, key))
            if old is not obj:
                self._notify("ADDED" if old is None else "MODIFIED", res, obj)

    def namespaced_resources(self) -> builtins.list[Resource]:
        """The namespaced resources that have (or had) objects here."""
        return [res for res in self._tables if res.namespaced]

    def names_in(self, res: Resource, namespace: str) -> builtins.list[str]:
        """The names of the objects of `res` in `namespace`."""
        return list(self.table(res).by_namespace.get(namespace, {}))

    # ------------------------------------------------------------------- write internals

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def write(
        self, res: Resource, key: Key, obj: dict[str, Any], old: dict[str, Any] | None, kind: str
    ) -> None:
        """Store a new version of an object (a new resourceVersion) and announce it."""
        rv = self._next_rv()
        obj["metadata"] = {**obj["metadata"], "resourceVersion": str(rv)}
        entry = Entry(obj)
        self.table(res).put(key, entry)
        self.gc.track(res, key, old, obj)
        # Serialising here (once per write) keeps every LIST body warm.
        _ = entry.raw
        self._emit(rv, kind, res, obj, old)

    def remove(self, res: Resource, key: Key, last: dict[str, Any]) -> None:
        """Remove an object for good, then let GC and namespace lifecycle react."""
        table = self.table(res)
        old = table.entries.get(key)
        if old is None:
            return
        rv = self._next_rv()
        last = {**last, "metadata": {**last["metadata"], "resourceVersion": str(rv)}}
        table.pop(key)
        self.gc.track(res, key, old.obj, None)
        self._emit(rv, "DELETED", res, last, old.obj)
        self.gc.collect(last["metadata"]["uid"])
        self.gc.release_foreground_owners(last)
        if res.namespaced:
            self.namespaces.finish(key[0])

    def _emit(
        self,
        rv: int,
        kind: str,
        res: Resource,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> None:
        # Controllers (informers in-process) hear of the write at once; remote watchers
        # through the watch cache, a little later.
        self.watch_cache.record(
            Event(rv, kind, res, obj, old, view(res, obj), view(res, old) if old else None)
        )
        self._notify(kind, res, obj)

    def _notify(self, kind: str, res: Resource, obj: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, res, obj)
            except Exception:
                log.exception("sim.store.listener_failed", store=self.name, kind=res.kind)

    # ------------------------------------------------------------------ listeners, watch

    def add_admission(self, admit: Admission) -> None:
        """Call `admit(res, obj)` on every create before it is stored (mutating admission)."""
        self._admission.append(admit)

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(type, res, obj)` synchronously after every write."""
        self._listeners.append(listener)

    async def watch(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Stream (type, object) events; rv unset or "0" starts with synthetic ADDED events.

        A resourceVersion older than the kept history yields one ("ERROR", Status 410) event.
        The objects are read-only views.
        """
        watcher = self.open_watch(
            res,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
        )
        try:
            while True:
                event = await watcher.queue.get()
                yield event
                if event[0] == "ERROR":
                    return
        finally:
            self.close_watch(watcher)

    def open_watch(
        self,
        res: Resource,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
    ) -> Watcher:
        """Register a watcher and queue its initial events (selectors validated first).

        Unset or "0": synthetic ADDED events for the current objects, then later changes.
        A version: the changes after it; one older than the cache's window queues a single
        ERROR event (410 Gone). The HTTP layer waits for a version beyond the cache first.
        """
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, self.field_selectors(res))
        watcher = Watcher(res, namespace if res.namespaced else None, labels, fields, self._rv)
        if resource_version in ("", "0"):
            for key in self.table(res).keys_in_order():
                obj = self.table(res).entries[key].obj
                if watcher.selects(view(res, obj)):
                    watcher.queue.put_nowait(("ADDED", obj))
            self.watch_cache.add(watcher, replay_from=None)
        else:
            self.watch_cache.add(watcher, replay_from=parse_resource_version(resource_version))
        return watcher

    def close_watch(self, watcher: Watcher) -> None:
        """Stop delivering events to a watcher."""
        self.watch_cache.remove(watcher)


def parse_resource_version(text: str) -> int:
    """A resourceVersion parameter as a number; 400 BadRequest when it is not one."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise errors.bad_request(f"invalid resource version {text!r}")
    return value
