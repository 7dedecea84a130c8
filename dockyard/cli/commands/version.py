"""dockyard version: client and server versions (docker's layout, or --format)."""
from __future__ import annotations

import os
import sys

from ..api import CLIENT_VERSION, MAX_API_VERSION
from ..errors import CLIError
from ..tabwriter import align

USAGE = "[OPTIONS]"
SHORT = "Show the Docker version information"
ARGS = (0, 0)

TEMPLATE = """{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Python version:\t{{.GoVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}"""


def _ansic(value: str) -> str:
    """docker shows build times as Go's time.ANSIC ("Thu May  7 21:09:36 2026") when they parse."""
    import datetime as dt
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    if "." in text:
        head, _, rest = text.partition(".")
        tail = rest.lstrip("0123456789")
        text = head + tail
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return value
    return t.strftime("%a %b %e %H:%M:%S %Y")


def flags(fs):
    fs.string("format", "f", help="Format output using a custom template")


def main(app, opts, args):
    fmt = opts.format
    machine = os.uname().machine
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    pyver = ".".join(str(x) for x in sys.version_info[:3])
    client = {"Platform": {"Name": "Dockyard"}, "Version": CLIENT_VERSION, "APIVersion": MAX_API_VERSION,
              "DefaultAPIVersion": MAX_API_VERSION, "GitCommit": "", "GoVersion": pyver,
              "Os": "linux", "Arch": arch, "BuildTime": "", "Context": "default"}
    data = {"Client": client, "Server": None, "ServerOK": False}
    wants_server = not fmt or "Server" in fmt or "{{json .}}" in fmt.replace(" ", "") or fmt == "json"
    error = None
    if wants_server:
        try:
            sv = app.api.get("/version") or {}
            client["APIVersion"] = app.api.version
            sv = dict(sv)
            sv["APIVersion"] = sv.get("ApiVersion", "")
            sv["BuildTime"] = _ansic(sv.get("BuildTime", ""))
            for comp in sv.get("Components") or []:
                details = comp.get("Details") or {}
                if "BuildTime" in details:
                    details["BuildTime"] = _ansic(details["BuildTime"])
            sv.setdefault("Platform", {"Name": ""})
            data["Server"], data["ServerOK"] = sv, True
        except CLIError as e:
            error = e
    from ..template import Template, TemplateError
    if fmt == "json":
        fmt = "{{json .}}"
    try:
        tmpl = Template(fmt or TEMPLATE)
    except TemplateError as e:
        raise CLIError(f"template parsing error: {e}") from None
    try:
        text = tmpl.execute(data)
    except TemplateError as e:
        raise (error or CLIError(str(e))) from None  # docker reports the daemon's error first
    if fmt:
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(align(text + "\n", minwidth=20, padding=1))
    if error is not None:
        raise error
    return 0
