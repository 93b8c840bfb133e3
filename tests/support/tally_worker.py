"""A consumer process for the tally, so a test can kill it mid-batch.

python -m tests.support.tally_worker BOOTSTRAP MONGODB_URI DATABASE TOPIC
"""

import asyncio
import sys

from tests.support.tally import Backbone
from ucap_shared.mongo import connect_mongo


async def main(bootstrap: str, mongodb_uri: str, database: str, topic: str) -> None:
    mongo = connect_mongo(mongodb_uri)
    backbone = Backbone(
        bootstrap=bootstrap,
        database=mongo[database],
        topic=topic,
        dlq=topic.replace(".events", ".dlq"),
    )
    consumer = backbone.consumer(each=lambda _: asyncio.sleep(0.01))  # slow: killed mid-batch
    consumer.start()
    print("consuming", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
