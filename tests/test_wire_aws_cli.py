"""The aws-cli (v1, which bundles its own botocore: only the HTTP face reaches it) against the
server: a KMS round trip with an encryption context, a wrong context refused, a WorkSpace
launched and listed. The CLI takes about a second per call, so independent calls run together."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
from wire_support import serve

AWS = str(Path(sys.executable).with_name("aws"))


def _start(endpoint: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-west-2", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.Popen([AWS, "--endpoint-url", endpoint, "--output", "json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def _ok(proc: subprocess.Popen[str]) -> dict:
    code, out, err = _finish(proc)
    assert code == 0, err
    return json.loads(out) if out.strip() else {}


def test_the_aws_cli_round_trips_kms_and_launches_a_workspace(tmp_path: Path) -> None:
    with serve("--seed", "13", "--clock", "manual") as (endpoint, _proc):
        creds = {"region_name": "us-west-2", "aws_access_key_id": "test",
                 "aws_secret_access_key": "test", "endpoint_url": endpoint}
        directory = boto3.client("ds", **creds).create_directory(
            Name="corp.example.com", Password="Passw0rd!", Size="Small")["DirectoryId"]
        urllib.request.urlopen(urllib.request.Request(
            f"{endpoint}/_envelope-sim/directory-users", method="POST",
            data=json.dumps({"DirectoryId": directory, "UserName": "jdoe"}).encode()), timeout=10)
        bundle = boto3.client("workspaces", **creds).describe_workspace_bundles()["Bundles"][0]

        key = _ok(_start(endpoint, "kms", "create-key", "--description", "cli"))["KeyMetadata"]
        (tmp_path / "plain.txt").write_bytes(b"hello from the cli")
        blob = _ok(_start(endpoint, "kms", "encrypt", "--key-id", key["KeyId"],
                          "--plaintext", f"fileb://{tmp_path / 'plain.txt'}",
                          "--encryption-context", "app=payroll,stage=test"))["CiphertextBlob"]
        (tmp_path / "blob.bin").write_bytes(base64.b64decode(blob))
        good = _start(endpoint, "kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob.bin'}",
                      "--encryption-context", "app=payroll,stage=test")
        wrong = _start(endpoint, "kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob.bin'}",
                       "--encryption-context", "app=payroll,stage=prod")
        launch = _start(endpoint, "workspaces", "create-workspaces", "--workspaces",
                        f"DirectoryId={directory},UserName=jdoe,BundleId={bundle['BundleId']},"
                        f"VolumeEncryptionKey={key['Arn']},RootVolumeEncryptionEnabled=true,"
                        "UserVolumeEncryptionEnabled=true")
        assert base64.b64decode(_ok(good)["Plaintext"]) == b"hello from the cli"
        code, _, err = _finish(wrong)
        assert code != 0 and "InvalidCiphertextException" in err
        launched = _ok(launch)
        assert launched["FailedRequests"] == []
        # DescribeWorkspaces shows a new WorkSpace a few seconds after CreateWorkspaces.
        urllib.request.urlopen(urllib.request.Request(
            f"{endpoint}/_envelope-sim/advance", method="POST",
            data=json.dumps({"seconds": 5}).encode()), timeout=10)
        listed = _ok(_start(endpoint, "workspaces", "describe-workspaces"))["Workspaces"]
    assert [w["WorkspaceId"] for w in listed] == [launched["PendingRequests"][0]["WorkspaceId"]]
    assert listed[0]["VolumeEncryptionKey"] == key["Arn"]
