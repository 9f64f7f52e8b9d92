"""DA7xx: images — floating tags, digests, end-of-life releases, registries, stale images."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from dockaudit.model import ContainerSpec, ImageRef, Severity, known
from dockaudit.rulebase import BOTH, LIVE, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import option
from dockaudit_rules.eol import eol_entry
from dockaudit_rules.imagenames import DOCKER_HUB, normalize_key, registry_of, repository_path

THEME = "images"


def image_of(spec: ContainerSpec) -> ImageRef | None:
    image = spec.image
    if image is None or not known(image) or not isinstance(image, ImageRef):
        return None
    return image


def shown(image: ImageRef) -> str:
    return image.raw or image.repository


# Tags that name a channel, not a version: each is moved to every new build of that channel.
FLOATING_TAGS = frozenset({"latest", "stable", "edge", "nightly", "dev", "test"})


class ImageLatest(Rule):
    """The image is not pinned to a version: no tag, or a floating tag such as `:latest`.

    `latest` is whatever was pushed last; `stable`, `edge`, `nightly`, `dev`
    and `test` likewise move to every new build of their channel. The same
    script starts a different program on another day or another host, and a
    rollback has nothing to go back to.

    **Anti-pattern**
    ```bash
    docker run -d --name web nginx
    ```

    **Best practice**
    ```bash
    docker run -d --name web nginx:1.25.4
    ```

    **Stays silent** for an image the same file builds or tags (`docker build
    -t app .` then `docker run app`: nothing is pulled), and under the default
    profile for an image whose registry or namespace is a variable
    (`$REGISTRY/app`: the project's own, released elsewhere); in Markdown,
    where examples show the current release on purpose; in a developer's
    own shell set-up except for containers kept running with a restart
    policy; and in tests and CI except for foreground tools named literally
    from a namespace that is not Docker's official one (`$IMAGE` is the image
    under test; a detached server the test runs is the current release on
    purpose; any `ubuntu` will do for a smoke test).
    """

    id = "DA701"
    name = "image-latest"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    purposes = frozenset({"deploy", "ci-test", "build", "dev"})

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        image = image_of(spec)
        if image is None or image.digest is not None or not known(image.tag):
            return
        if spec.image_origin == "built" or (not ctx.broad and not _worth_pinning(spec, image, ctx)):
            return
        if image.tag is None:
            yield Violation(
                f"image {shown(image)} has no tag: it runs whatever :latest is at pull time",
                spec.where("image"),
                f"pin a version, e.g. {image.raw}:<version> (or @sha256:<digest>)",
            )
        elif image.tag.lower() in FLOATING_TAGS:
            yield Violation(
                f"image {shown(image)} uses the floating tag :{image.tag}",
                spec.where("image"),
                f"pin a version tag (or @sha256:<digest>) instead of :{image.tag}",
            )


# Docker Hub's official images: no namespace, library/, and the per-architecture copies.
_OFFICIAL_NAMESPACES = frozenset({"library", "amd64", "arm32v5", "arm32v6", "arm32v7", "arm64v8", "i386",
                                  "mips64le", "ppc64le", "riscv64", "s390x", "windows-amd64"})


def _official(image: ImageRef) -> bool:
    path = repository_path(image)
    return registry_of(image) == DOCKER_HUB and ("/" not in path or path.split("/", 1)[0] in _OFFICIAL_NAMESPACES)


def _worth_pinning(spec: ContainerSpec, image: ImageRef, ctx: RuleContext) -> bool:
    """Under the default profile: would this file's maintainer pin this image? (see the docstring)"""
    if spec.image_origin == "own":
        return False
    if ctx.purpose == "dev":
        return spec.declared_service
    if ctx.purpose == "ci-test":
        return (spec.subcommand == "run" and not spec.detach and spec.image_origin is None
                and not _official(image))
    return True


class ImageNoDigest(Rule):
    """The image is not pinned by digest.

    A tag can be moved to another image at any time, by the publisher or by
    anyone who takes over the repository; only `@sha256:` names exactly one
    image.

    **Anti-pattern**
    ```bash
    docker run -d --name web nginx:1.25.4
    ```

    **Best practice**
    ```bash
    docker run -d --name web nginx:1.25.4@sha256:9ff236ed47fe39cf1f0acf349d0e5137f8b8a6fd0b46e5117a401010e56222e1
    ```
    """

    id = "DA702"
    name = "image-no-digest"
    severity = Severity.INFO
    sources = BOTH
    theme = THEME
    enabled_by_default = False

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        image = image_of(spec)
        if image is None or image.digest is not None:
            return
        yield Violation(
            f"image {shown(image)} is not pinned by digest",
            spec.where("image"),
            "append @sha256:<digest> (docker buildx imagetools inspect shows it)",
        )


class ImageEol(Rule):
    """The image is a release past its end of life.

    Releases past their end of life get no security fixes: every
    vulnerability found since stays open. The dates come from a table shipped
    with dockaudit (`extra-eol` adds to it).

    **Anti-pattern**
    ```bash
    docker run -d --name app python:2.7-slim python app.py
    ```

    **Best practice**
    ```bash
    docker run -d --name app python:3.12-slim python app.py
    ```
    """

    id = "DA703"
    name = "image-eol"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    options: ClassVar[Mapping[str, Option]] = {
        "extra-eol": Option(
            {},
            dict,
            "more end-of-life dates: image name -> {tag prefix: YYYY-MM-DD}",
            item_type=dict,
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        image = image_of(spec)
        if image is None or not known(image.tag):
            return
        entry = eol_entry(image, option(self, ctx, "extra-eol"))
        if entry is None or entry.eol >= ctx.today:
            return
        release = "every release" if entry.release == "*" else f"{entry.image} {entry.release}"
        yield Violation(
            f"image {shown(image)}: {release} reached end of life on {entry.eol.isoformat()} "
            "and gets no security fixes",
            spec.where("image"),
            f"move to a supported release of {entry.image}",
        )


def trusted(image: ImageRef, entries: Iterable[str]) -> bool:
    """Whether *image* comes from one of *entries*: a registry host, or host/namespace prefix."""
    registry = registry_of(image)
    full = f"{registry}/{repository_path(image)}"
    for entry in entries:
        wanted = entry.strip().lower().rstrip("/")
        if not wanted:
            continue
        host, _, path = wanted.partition("/")
        host = registry_of(ImageRef(wanted, host, "x", None, None))
        if not path:
            if registry == host:
                return True
            continue
        prefix = f"{host}/{normalize_key(path) if host == DOCKER_HUB else path}"
        if full == prefix or full.startswith(prefix + "/"):
            return True
    return False


class UntrustedRegistry(Rule):
    """The image comes from a registry not on the trusted list.

    Where images may come from is a policy decision: an internal mirror, a
    vetted vendor registry. Set `trusted-registries` (`docker.io` is Docker
    Hub; `ghcr.io/myorg` trusts one namespace) and every other source is
    reported. With the list empty the rule reports nothing.

    **Anti-pattern**
    ```bash
    # .dockaudit.yaml: rules: {DA704: {trusted-registries: [registry.example.com]}}
    docker run -d --name web nginx:1.25
    ```

    **Best practice**
    ```bash
    docker run -d --name web registry.example.com/mirror/nginx:1.25
    ```
    """

    id = "DA704"
    name = "untrusted-registry"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    # The anti-pattern example needs a trust list to fire: the options it is documented with.
    example_options: ClassVar[Mapping[str, object]] = {"trusted-registries": ["registry.example.com"]}
    options: ClassVar[Mapping[str, Option]] = {
        "trusted-registries": Option(
            [],
            list,
            "registries (docker.io for Docker Hub) or registry/namespace prefixes images may come "
            "from; empty: the rule reports nothing",
            item_type=str,
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        entries = option(self, ctx, "trusted-registries")
        image = image_of(spec)
        if not entries or image is None:
            return
        if trusted(image, entries):
            return
        yield Violation(
            f"image {shown(image)} comes from {registry_of(image)}, which is not a trusted registry",
            spec.where("image"),
            f"pull it through a trusted registry ({', '.join(entries)})",
        )


class StaleImage(Rule):
    """The container runs an older image than its tag names now.

    The tag was pulled again (or rebuilt) since the container was created:
    the container still runs the old image, without the fixes the new one
    carries, until it is re-created.

    **Anti-pattern**
    ```bash
    docker pull nginx:1.25 && docker ps   # web still runs the image it was created from
    ```

    **Best practice**
    ```bash
    docker rm -f web && docker run -d --name web nginx:1.25
    ```
    """

    id = "DA705"
    name = "stale-image"
    severity = Severity.INFO
    sources = LIVE
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        runtime = spec.runtime
        if runtime is None or not runtime.image_id or not runtime.tag_image_id:
            return
        if runtime.image_id == runtime.tag_image_id:
            return
        image = image_of(spec)
        name = shown(image) if image is not None else "its image"
        yield Violation(
            f"the container runs {runtime.image_id[:19]}, but {name} now names {runtime.tag_image_id[:19]}",
            None,
            "re-create the container to run the current image",
        )
