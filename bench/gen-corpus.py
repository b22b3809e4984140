#!/usr/bin/env python3
"""Writes a large corpus of valid Kubernetes manifests for benchmarks.

gen-corpus.py OUTDIR [OBJECTS]: OBJECTS (default 10000) objects, five per
app (Namespace-scoped ServiceAccount, ConfigMap, Deployment, Service,
PodDisruptionBudget), one multi-document file per app, apps spread over
ten namespaces and a few directories.
"""
import os
import sys

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
apps = max(1, total // 5)

TEMPLATE = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-{i}
  namespace: {ns}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-config
  namespace: {ns}
  labels:
    app.kubernetes.io/name: app-{i}
data:
  LOG_LEVEL: "info"
  LISTEN: ":8080"
  FEATURE_FLAGS: "a,b,c"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: app-{i}
    app.kubernetes.io/part-of: bench
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{i}
    spec:
      serviceAccountName: app-{i}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: app
          image: registry.example.com/app-{i}:1.{i}.0
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: app-{i}-config
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
            limits: {{cpu: 500m, memory: 128Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
          livenessProbe:
            httpGet: {{path: /healthz, port: http}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: app-{i}
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{i}
"""

for i in range(apps):
    d = os.path.join(out, "team-%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "app-%05d.yaml" % i), "w") as f:
        f.write(TEMPLATE.format(i=i, ns="bench-%d" % (i % 10)))
print("%d objects in %d files under %s" % (apps * 5, apps, out))
