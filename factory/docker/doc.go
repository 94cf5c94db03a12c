// Package docker is the ContainerFactory on the Docker Engine API,
// registered as provider "docker". It talks to the engine only through the
// project-owned engine interface, so a move from
// github.com/docker/docker/client to its successor changes one adapter
// (engine_sdk.go) and nothing else.
//
// Creation: the image is resolved against its registry (user images against
// container-factory.user-images-registry, runtime images against
// runtimes-registry). Runtime images are never pulled. A user image listed
// in the manifest's blackboxes counts as local and is not pulled either.
// Another user image is pulled with the registry's credentials as the
// engine's X-Registry-Auth header; concurrent pulls of one image share one
// engine call. With tag "latest" or no tag a failed pull is the user's error
// ("Failed to pull container image '<image>'."); with another tag the
// failure is logged and the local image, if any, is used.
//
// Every container gets memory = memory-swap = the action's memory, the CPU
// shares the pool computed, a CPU limit when user-cpus is set, the
// network the hardening profile or the configuration names and the DNS,
// __OW_API_HOST and the extra env vars, the hardening profile's settings
// (docker.hardening.profile; hardening.go, network.go and the README), a
// pids limit of 1024, nofile 1024:1024, the json-file log driver, the extra
// args on top (see ExtraArgFlags),
// and the labels io.stemcell.invoker, io.stemcell.kind, io.stemcell.role
// (prewarm or action), io.stemcell.namespace and io.stemcell.action (for an
// action) and io.stemcell.managed=true. Create and start hold one of
// docker.parallel-runs slots, granted in the order the creations were
// reserved (ReserveCreate; the factory actor reserves in message order).
// A creation that pulls first keeps its place while it pulls without
// holding back the ones behind it. The factory then
// reads the container's IP on the network and waits until ip:8080 accepts a
// TCP connection. A container that fails on the way is force-removed.
//
// Init and Cleanup remove the containers that carry both this invoker's
// label and its name prefix, and nothing else. Init also settles the
// network, creating the strict profile's when it is missing. Init also builds the runtime
// image FROM scratch from the static invoker binary when it is missing or
// its io.stemcell.runtime.sha256 label names another binary.
package docker
