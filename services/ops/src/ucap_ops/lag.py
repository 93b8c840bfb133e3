"""`ucap lag`: each consumer group's lag per topic, and how fresh its views are.

Read from Kafka (end and committed offsets) and from each service's stream
positions, so it answers the same whether the services run or not.
"""

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ucap_ops.backbone import CommandError, fail, run
from ucap_ops.consumer_lag import GroupLag, measure
from ucap_ops.targets import ServiceName, service_targets


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "-"


def _table(groups: list[GroupLag]) -> Table:
    table = Table("service", "group", "members", "topic", "lag", "last event", "last applied")
    for group in groups:
        members = f"{group.state.members} ({group.state.state})"
        for index, topic in enumerate(group.topics):
            first = index == 0
            table.add_row(
                group.service if first else "",
                group.group if first else "",
                members if first else "",
                topic.topic if topic.exists else f"{topic.topic} (no such topic)",
                str(topic.lag),
                _when(topic.position.last_event_time),
                _when(topic.position.last_applied_at),
            )
    return table


def lag_command(
    service: Annotated[
        ServiceName | None, typer.Option("--service", "-s", help="Only this service's group.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Each consumer group's lag per topic, and each topic's last applied event time.

    Lag is the records a group has not read yet (end offset minus committed
    offset); "last event" is the time of the newest event its views applied
    from that topic, "last applied" when it applied one last.
    """
    try:
        targets = service_targets(service.value if service else None)
    except CommandError as error:
        fail(str(error))
    groups = run(measure(targets))
    if as_json:
        typer.echo(json.dumps([group.as_json() for group in groups], indent=2))
        return
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(_table(groups))
