module github.com/sluiceproxy/sluice

go 1.26.8

require (
	github.com/valyala/fasthttp v1.74.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
)
