"""The official Python `kubernetes` client against the sandbox's Kubernetes API.

Usage: python_kubernetes.py KUBECONFIG TOO_OLD_RESOURCE_VERSION
Exits non-zero with the failed check on stderr.
"""

import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def configmap(name):
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels={"test": "python"}),
        data={"k": name},
    )


def main(kubeconfig, too_old):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    # List, then watch from the list's resourceVersion: every change after
    # the list arrives, including those made before the watch started.
    listed = core.list_namespaced_config_map("default", label_selector="test=python")
    rv = listed.metadata.resource_version
    core.create_namespaced_config_map("default", configmap("a"))
    core.create_namespaced_config_map("default", configmap("b"))
    status = core.delete_namespaced_config_map("a", "default")
    status = status if isinstance(status, dict) else status.to_dict()
    assert status["kind"] == "Status" and status["status"] == "Success", status
    seen = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map,
        "default",
        label_selector="test=python",
        resource_version=rv,
        timeout_seconds=20,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            stream.stop()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")], seen

    # A version the server no longer knows: 410 Gone.
    try:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=too_old,
            timeout_seconds=5,
        ):
            pass
        raise AssertionError("a watch from a too-old version did not fail")
    except ApiException as e:
        assert e.status == 410, e

    # Workloads: the client decodes pods only when they are complete.
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="web", image="nginx:1.27")]
                ),
            ),
        ),
    )
    apps.create_namespaced_deployment("default", deployment)
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert len(pods) == 1, pods
    assert pods[0].status.container_statuses[0].image_id.startswith("docker.io/library/nginx@sha256:")
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 1, scale
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 2}})
    assert len(core.list_namespaced_pod("default", label_selector="app=web").items) == 2
    nodes = core.list_node().items
    assert any(c.type == "Ready" and c.status == "True" for c in nodes[0].status.conditions)
    print("python kubernetes client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
