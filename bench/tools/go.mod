// The tools tidegate's benchmarks compare against, pinned. Only a build
// recipe: bench/build-tools builds them into ~/.cache/tidegate/bench/.
module tidegate.invalid/bench/tools

go 1.24

require github.com/yannh/kubeconform v0.7.0 // indirect
