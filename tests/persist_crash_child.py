"""The crash harness's child: a seeded random workload against a state file, printing one
``ack`` line after each call returns (so the parent knows what was acknowledged).

    python persist_crash_child.py STATE_FILE SEED CALLS [SLEEP_AFTER]

Every write goes to a block of its own (never rewritten), so what a block must hold after a
crash is known: the write's data if the write was acknowledged before its volume's last
acknowledged flush, detach or snapshot; its data or zeros otherwise, never anything torn.
"""

from __future__ import annotations

import json
import random
import sys
import time

from persist_support import attach, pattern

from simulator import Simulation

BLOCK = 32 * 1024


def ack(**what: object) -> None:
    print(json.dumps(what), flush=True)


def main() -> None:
    path, seed, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sleep_after = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    rng = random.Random(seed)
    sim = Simulation(seed=seed, state=path, volume_cipher="gcm")
    user = sim.iam.create_user(user_name="grantee").arn
    keys: list[str] = []
    attached: dict[str, str] = {}  # volume id -> instance id
    detached: dict[str, str] = {}
    blocks: dict[str, int] = {}
    n = 0
    while n < calls:
        n += 1
        choice = rng.random()
        if not keys or choice < 0.15:
            key = sim.kms.create_key(description=f"k{n}").arn
            keys.append(key)
            ack(op="key", n=n, key=key)
        elif choice < 0.25:
            sim.kms.create_alias(alias_name=f"alias/a{n}", target_key_id=rng.choice(keys))
            ack(op="alias", n=n, alias=f"alias/a{n}")
        elif choice < 0.35:
            grant = sim.kms.create_grant(key_id=rng.choice(keys), grantee_principal=user,
                                         operations=["Decrypt"]).grant_id
            ack(op="grant", n=n, grant=grant)
        elif choice < 0.45 or not attached:
            vol = sim.ebs.create_volume(size=1, encrypted=True, kms_key_id=rng.choice(keys),
                                        availability_zone=f"{sim.region}a").volume_id
            sim.advance(10)
            instance = f"i-{n:017x}"
            attach(sim, vol, instance_id=instance)
            attached[vol] = instance
            blocks[vol] = 0
            ack(op="volume", n=n, volume=vol)
        elif choice < 0.75:
            vol = rng.choice(sorted(attached))
            index = blocks[vol]
            blocks[vol] += 1
            sim.ebs.block_device(vol).write(index * BLOCK, pattern(n, BLOCK))
            ack(op="write", n=n, volume=vol, index=index)
        elif choice < 0.85:
            vol = rng.choice(sorted(attached))
            sim.ebs.block_device(vol).flush()
            ack(op="flush", n=n, volume=vol)
        elif choice < 0.9:
            vol = rng.choice(sorted(attached))
            sim.ebs.create_snapshot(volume_id=vol)
            ack(op="flush", n=n, volume=vol)  # a snapshot makes the writes before it durable
        elif choice < 0.95:
            vol = rng.choice(sorted(attached))
            sim.ebs.detach_volume(volume_id=vol)
            detached[vol] = attached.pop(vol)
            ack(op="flush", n=n, volume=vol)  # so does a detach
        else:
            seconds = rng.randint(1, 4000)
            sim.advance(seconds)
            ack(op="advance", n=n, seconds=seconds)
    if sleep_after:
        time.sleep(sleep_after)
    sim.close()


if __name__ == "__main__":
    main()
