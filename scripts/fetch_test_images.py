#!/usr/bin/env python3
"""fetch_test_images.py: the Python half of scripts/fetch-test-images.sh.

The shell script downloads Debian packages; this file knows which packages,
which files inside them to keep and in which category, reads image headers,
and writes the corpus (MANIFEST.tsv, SUMMARY.txt, LICENSES/). Standard
library only. Subcommands (the shell script calls them; useful by hand too):

  packages [--small]                        the package names, one a line
  stamp [--small]                           the stamp a complete corpus carries
  build [--small] --debs DIR --out DIR      fill DIR from the cached .debs,
                                            exit 1 if the result is below the
                                            minimums (see MINIMUMS)
  sniff FILE...                             format, size and features of files

Everything kept is somebody else's published, benign file: photographs,
drawings, test images of image libraries, format samples and the broken files
those libraries test their decoders with. Nothing is generated here.
"""
import collections
import fnmatch
import hashlib
import multiprocessing
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tarfile

# Bump when the selection, the layout or the MANIFEST changes: a corpus made
# by another version is rebuilt.
CORPUS_VERSION = 1

PHOTOS_2MP, PHOTOS, TESTIMAGES, ART = 'photos-2mp', 'photos', 'testimages', 'art'
VARIANTS, FORMATS, MALFORMED = 'variants', 'formats', 'malformed'
CATEGORIES = (PHOTOS_2MP, PHOTOS, TESTIMAGES, ART, VARIANTS, FORMATS, MALFORMED)
POOLS = (PHOTOS_2MP, PHOTOS, TESTIMAGES, ART)   # distinct pictures: false-positive pools
SKIP = None
FAMILY = 'family'        # pseudo category, see Family below

# A picture this large (a side >= 10000 px and >= 50 MP) is a decompression-bomb
# test, whatever its package says: kept in formats/huge-dimensions, never in a pool.
HUGE_SIDE, HUGE_PIXELS = 10000, 50_000_000
MIN_2MP = 2_000_000

# Checked at the end of `build`; below any of them the build fails.
MINIMUMS = [
    ('JPEG photographs of >= 2 MP in photos-2mp/', 50,
     lambda r: r.category == PHOTOS_2MP and r.fmt == 'jpeg' and r.pixels >= MIN_2MP),
    ('other photographs in photos/', 100, lambda r: r.category == PHOTOS),
    ('drawings and renders in art/', 100, lambda r: r.category == ART),
    ('format samples in formats/', 20, lambda r: r.category == FORMATS),
    ('malformed files in malformed/', 20, lambda r: r.category == MALFORMED),
    ('formats/ + malformed/ together (the decoder tests want > 500 that decode)', 600,
     lambda r: r.category in (FORMATS, MALFORMED)),
]


# ---------------------------------------------------------------- selection
class Rule:
    """Files of one package whose path matches `pattern` (fnmatch, on the path
    inside the package without the leading ./) go to category/group. The first
    matching rule of a package wins; SKIP drops the file."""

    def __init__(self, pattern, category, group=None, min_side=None):
        self.pattern, self.category, self.group, self.min_side = pattern, category, group, min_side

    def matches(self, path):
        return fnmatch.fnmatchcase(path, self.pattern)


class Family(Rule):
    """KDE-style wallpaper folders (NAME/contents/images/WxH.ext, images_dark/,
    screenshot.png): the largest picture under contents/images/ is the
    wallpaper, in `photo_category` when NAME is listed in `photos` (checked by
    eye: real photographs), else in `category`; every other file of the
    folder is a near-duplicate and goes to variants/`rest_group`."""

    def __init__(self, pattern, key_regex, group, rest_group, photos=(), photo_category=PHOTOS_2MP,
                 category=ART):
        super().__init__(pattern, FAMILY, group)
        self.key_regex, self.rest_group = re.compile(key_regex), rest_group
        self.photos, self.photo_category, self.main_category = set(photos), photo_category, category


class Package:
    def __init__(self, name, rules, heavy=False, license_note=None):
        self.name, self.rules, self.heavy, self.license_note = name, rules, heavy, license_note

    def rule_for(self, path):
        for rule in self.rules:
            if rule.matches(path):
                return rule
        return None


def photos_2mp(group, prefix, *names):
    """Rules for hand-picked real photographs meant to be >= 2 MP (looked at,
    one by one). A file that turns out smaller is kept in photos/."""
    return [Rule(prefix + n, PHOTOS_2MP, group) for n in names]


BG = 'usr/share/backgrounds/'
LXQT = 'usr/share/lxqt/wallpapers/'
MATE = BG + 'mate/'
JXL = 'usr/share/libjxl-testdata/'
DLIB = 'usr/share/doc/libdlib19.1/examples/'
GDK = 'usr/libexec/installed-tests/gdk-pixbuf/'
SKIMAGE = 'usr/lib/python3/dist-packages/skimage/'
FORENSICS = 'usr/share/forensics-samples/original-files/'
STELLARIUM = 'usr/share/stellarium/'
PYSIO = 'usr/share/games/pysiogame/res/images/'

PACKAGES = [
    # ---- photographs and art first: when two packages ship the same bytes,
    # the first one listed here keeps them.
    Package('lxqt-themes', [
        *photos_2mp('lxqt-wallpapers', LXQT, 'Butterfly-Kenneth-Wimer.jpg', 'after-the-rain.jpg', 'fog.jpg',
                    'this-is-not-windows.jpg', 'Valendas.png', 'appleflower.png', 'beam.png', 'butterfly.png',
                    'cloud.png', 'drop.png', 'flowers.png'),
        # one design in several tints or with a logo: one stays in art/, the others are variants
        Rule(LXQT + 'origami-light.png', ART, 'lxqt-wallpapers'),
        Rule(LXQT + '*origami*', VARIANTS, 'lxqt-origami-tints'),
        Rule(LXQT + 'plasma-logo-bright.png', ART, 'lxqt-wallpapers'),
        Rule(LXQT + 'plasma-logo-*', VARIANTS, 'lxqt-plasma-logo-tints'),
        Rule(LXQT + 'waves-logo.png', ART, 'lxqt-wallpapers'),
        Rule(LXQT + 'waves-*', VARIANTS, 'lxqt-waves-tints'),
        Rule(LXQT + '*.png', ART, 'lxqt-wallpapers'),
        Rule(LXQT + '*.jpg', ART, 'lxqt-wallpapers'),
    ]),
    Package('mate-backgrounds', [
        *photos_2mp('mate-nature', MATE + 'nature/', 'Aqua.jpg', 'Blinds.jpg', 'Garden.jpg', 'LadyBird.jpg',
                    'RainDrops.jpg', 'Storm.jpg', 'TwoWings.jpg', 'Wood.jpg', 'YellowFlower.jpg'),
        Rule(MATE + 'nature/*', PHOTOS, 'mate-nature'),
        Rule(MATE + 'abstract/Elephants.jpg', ART, 'mate-wallpapers'),
        Rule(MATE + 'abstract/Elephants_*', VARIANTS, 'mate-elephants-sizes'),
        Rule(MATE + 'desktop/Ubuntu-Mate-Warm-no-logo.png', ART, 'mate-wallpapers'),
        Rule(MATE + 'desktop/Ubuntu-Mate-*', VARIANTS, 'mate-ubuntu-mate-tints'),
        Rule(MATE + 'desktop/MATE-Stripes-Light.png', ART, 'mate-wallpapers'),
        Rule(MATE + 'desktop/MATE-Stripes-*', VARIANTS, 'mate-stripes-tints'),
        Rule(MATE + '*', ART, 'mate-wallpapers'),
    ]),
    Package('mate-screensaver-common', [
        *photos_2mp('nasa-cosmos', BG + 'cosmos/', 'blue-marble-west.jpg', 'cloud.jpg', 'galaxy-ngc3370.jpg',
                    'helix-nebula.jpg', 'sombrero.jpg', 'whirlpool.jpg'),
        Rule(BG + 'cosmos/*', PHOTOS, 'nasa-cosmos'),
    ]),
    Package('plasma-workspace-wallpapers', [
        Family('usr/share/wallpapers/*', r'usr/share/wallpapers/([^/]+)/', 'plasma-wallpapers',
               'plasma-resolutions-and-dark-variants',
               photos=('BytheWater', 'ColdRipple', 'ColorfulCups', 'DarkestHour', 'EveningGlow', 'FallenLeaf',
                       'Grey', 'Kite', 'OneStandsOut', 'Path', 'summer_1am')),
    ]),
    Package('lomiri-wallpapers-16.04', [
        *photos_2mp('lomiri-wallpapers', BG, *[n + '.jpg' for n in (
            'Bridge_by_Sander_Klootwijk', 'Dragonfly_by_Bolly', 'Picture_0B_by_freespace', 'Wine_by_Jakkub_Mede',
            'aitzgorri_by_Aitzol_Berasategi', 'analogpattern_by_Peter_Nerlich', 'free_by_Peter_Nerlich',
            'friends_by_Aitzol_Berasategi', 'greentock_by_Peter_Nerlich', 'life_by_Aitzol_Berasategi',
            'picosdeeuropa_by_Aitzol_Berasategi', 'seeding_by_Clements_Engelhardt',
            'sunset_by_Aitzol_Berasategi')]),
        Rule(BG + 'Picture_1A_by_freespace.jpg', PHOTOS, 'lomiri-wallpapers'),
        Rule(BG + '*', ART, 'lomiri-wallpapers'),
    ]),
    Package('lomiri-wallpapers-20.04', [
        *photos_2mp('lomiri-wallpapers', BG, 'Kleiber_by_Lukas_Baubkus.jpg', 'Infinite-Sea_by_Aury88.jpg'),
        Rule(BG + '*', ART, 'lomiri-wallpapers'),
    ]),
    Package('forensics-samples-files', [
        # phone and camera photographs, with their EXIF (orientation 3 among them)
        *photos_2mp('forensics-samples', FORENSICS, 'pic1/IMG_20200827_231612.jpg',
                    'pic2/IMG_20191224_234846.jpg', 'pic2/IMG_20200124_231153.jpg',
                    'pic2/IMG_20200608_111614.jpg'),
        Rule(FORENSICS + 'pic*/IMG*', PHOTOS, 'forensics-samples'),
        Rule(FORENSICS + 'pic*/empty.jpg', FORMATS, 'forensics-samples-161x1'),
        Rule(FORENSICS + 'pic*/*debian*', VARIANTS, 'forensics-debian-logo-encodings'),
    ]),
    Package('digikam-data', [
        *photos_2mp('digikam', 'usr/share/digikam/about/images/', 'body-background.jpg'),
    ]),
    Package('sddm-theme-maldives', [
        *photos_2mp('sddm-maldives', 'usr/share/sddm/themes/maldives/', 'background.jpg'),
        Rule('usr/share/sddm/themes/maldives/maldives.jpg', VARIANTS, 'sddm-maldives-screenshot'),
    ]),
    Package('palapeli-data', [
        *photos_2mp('palapeli', 'usr/share/palapeli/collection/', 'european-honey-bee.jpg'),
        Rule('usr/share/palapeli/collection/*', PHOTOS, 'palapeli'),
        Rule('usr/share/palapeli/backgrounds/*', ART, 'palapeli-textures'),
    ]),
    Package('libjxl-testdata', [
        *photos_2mp('libjxl-flower', JXL + 'jxl/flower/', 'flower.png'),
        Rule(JXL + 'jxl/flower/*', VARIANTS, 'libjxl-flower-encodings'),
        Rule(JXL + 'external/*', FORMATS, 'libjxl-external'),
        Rule(JXL + 'jxl/*', FORMATS, 'libjxl'),
    ]),
    Package('librust-jpeg-decoder-dev', [
        *photos_2mp('jpeg-decoder', 'usr/share/cargo/registry/jpeg-decoder-*/benches/', 'large_image.jpg'),
        Rule('usr/share/cargo/registry/jpeg-decoder-*/benches/tower*', VARIANTS, 'jpeg-decoder-tower'),
    ]),
    Package('libdlib19.1', [
        *photos_2mp('dlib-faces', DLIB + 'faces/', 'bald_guys.jpg'),
        Rule(DLIB + 'video_frames/*', VARIANTS, 'dlib-video-frames'),
        Rule(DLIB + 'johns/*', VARIANTS, 'dlib-johns-some-near-identical'),
        Rule(DLIB + '*', PHOTOS, 'dlib-faces'),
    ]),
    Package('endless-sky-data', [
        Rule('usr/share/games/endless-sky/images/land/*', PHOTOS, 'endless-sky-land'),
        Rule('usr/share/games/endless-sky/images/scene/*', PHOTOS, 'endless-sky-scene'),
    ]),
    Package('scratch', [
        Rule('usr/share/scratch/Media/Backgrounds/*', PHOTOS, 'scratch-backgrounds'),
        Rule('usr/share/scratch/Media/Costumes/Fantasy/gobo[23].*', VARIANTS, 'scratch-costume-poses'),
        Rule('usr/share/scratch/Media/Costumes/Animals/dog1-b.*', VARIANTS, 'scratch-costume-poses'),
        Rule('usr/share/scratch/Media/Costumes/Letters/*', VARIANTS, 'scratch-letters-alike-per-style'),
        Rule('usr/share/scratch/Media/Costumes/*', ART, 'scratch-costumes'),
    ]),
    Package('gnome-control-center-data', [
        Rule('usr/share/pixmaps/faces/*', PHOTOS, 'gnome-faces'),
    ]),
    Package('tuxpaint-data', [
        Rule('usr/share/tuxpaint/templates/*', PHOTOS, 'tuxpaint-templates'),
        Rule('usr/share/tuxpaint/starters/*', ART, 'tuxpaint-starters'),
    ]),
    Package('psychtoolbox-3-common', [
        Rule('*/OldNewRecognition/stims/*', PHOTOS, 'psychtoolbox-stims'),
        Rule('usr/share/psychtoolbox-3/*.jpg', VARIANTS, 'psychtoolbox-demo-images'),
    ]),
    Package('python3-skimage', [
        Rule(SKIMAGE + 'data/truncated.jpg', MALFORMED, 'skimage'),
        Rule(SKIMAGE + 'data/chessboard_*', VARIANTS, 'skimage-pairs'),
        Rule(SKIMAGE + 'data/motorcycle_*', VARIANTS, 'skimage-pairs'),
        Rule(SKIMAGE + 'data/*', TESTIMAGES, 'skimage'),
        Rule(SKIMAGE + 'registration/tests/data/*', VARIANTS, 'skimage-registration'),
    ]),
    Package('wand-doc', [
        Rule('usr/share/doc/wand-doc/html/_images/*', VARIANTS, 'wand-doc-effects'),
    ]),
    Package('pysatellites', [
        # one nebula in two sizes and two brightnesses: the small bright one stays in art/
        Rule('usr/share/pysatellites/images/neb_*_lrg.*', VARIANTS, 'pysatellites-nebula-variants'),
        Rule('usr/share/pysatellites/images/neb_drk*', VARIANTS, 'pysatellites-nebula-variants'),
        Rule('usr/share/pysatellites/images/*', ART, 'pysatellites-planet-maps'),
    ]),
    Package('pysiogame', [
        # Distinct drawings in art/. In variants/: the same shapes in seven
        # colours, pictures repeated in a second colour scheme or a mirrored
        # twin, four repeats found by PDQ distance, and interface pieces (a
        # button and its hover state). Checked with `hashscreen hash --dihedral`:
        # no two pictures left in the pools are within PDQ distance 31.
        Rule(PYSIO + 'shapes/*/*', VARIANTS, 'pysiogame-shape-colours'),
        Rule(PYSIO + 'schemes/*', VARIANTS, 'pysiogame-colour-schemes'),
        Rule(PYSIO + 'symmetry/*', VARIANTS, 'pysiogame-symmetry-pairs'),
        *[Rule(PYSIO + f, VARIANTS, 'pysiogame-repeats')
          for f in ('art4apps/animals/lama.jpg', 'art4apps/actions/stare.jpg', 'fc/fc085.jpg',
                    'memory/f_img17a.png')],
        *[Rule(PYSIO + d + '/*', ART, 'pysiogame')
          for d in ('art4apps', 'fc', 'memory', 'match_animals', 'fish', 'numbers_alpha', 'fr', 'shapes')],
        Rule(PYSIO + '*', VARIANTS, 'pysiogame-interface-pieces'),
    ]),
    Package('ukui-wallpapers', [
        Rule(BG + '*', ART, 'ukui-wallpapers'),
    ]),
    Package('gnome-backgrounds', [
        # large lossy and lossless WebP drawings; -l (light) in art/, -d (dark) a variant of it
        Rule(BG + 'gnome/vnc-*', FORMATS, 'webp-gnome-tiny'),
        Rule(BG + 'gnome/*-l.webp', ART, 'gnome-backgrounds'),
        Rule(BG + 'gnome/*-d.webp', VARIANTS, 'gnome-backgrounds-dark'),
        Rule(BG + 'gnome/*.webp', ART, 'gnome-backgrounds'),
    ]),
    # ---- format samples and broken files from image libraries' own tests
    Package('gdk-pixbuf-tests', [
        # a 13 MP phone photograph (a gdk-pixbuf bug report's sample)
        *photos_2mp('gdk-pixbuf-issue70', GDK, 'issue70.jpg'),
        Rule(GDK + 'test-images/fail/*', MALFORMED, 'gdk-pixbuf-fail'),
        Rule(GDK + 'test-images/randomly-modified/valid*', FORMATS, 'gdk-pixbuf'),
        Rule(GDK + 'test-images/randomly-modified/*', MALFORMED, 'gdk-pixbuf-randomly-modified'),
        Rule(GDK + 'premature-end*', MALFORMED, 'gdk-pixbuf'),
        Rule(GDK + 'cve-*', MALFORMED, 'gdk-pixbuf'),
        Rule(GDK + 'issue205.jpg', MALFORMED, 'gdk-pixbuf'),
        Rule(GDK + '*', FORMATS, 'gdk-pixbuf'),
    ]),
    Package('golang-1.19-src', [
        Rule('usr/share/go-1.19/src/image/*truncated*', MALFORMED, 'golang-image'),
        Rule('usr/share/go-1.19/src/image/*', FORMATS, 'golang-image'),
    ]),
    Package('golang-golang-x-image-dev', [
        Rule('*/golang.org/x/image/testdata/*', FORMATS, 'golang-x-image'),
    ]),
    Package('golang-github-rwcarlsen-goexif-dev', [
        Rule('*/goexif/exif/corrupt/*', MALFORMED, 'goexif'),
        Rule('*/goexif/*', FORMATS, 'goexif-camera-exif'),
    ]),
    Package('golang-github-disintegration-imaging-dev', [
        Rule('*/imaging/testdata/*', FORMATS, 'imaging'),
    ]),
    Package('jmagick6-docs', [
        Rule('*/examples/exif_orientation/*', FORMATS, 'jmagick-exif-orientation'),
    ]),
    Package('wx3.2-examples', [
        Rule('*/samples/image/*', FORMATS, 'wx-image'),
    ]),
    Package('libsixel-examples', [
        Rule('usr/share/doc/libsixel-examples/examples/images/*', FORMATS, 'libsixel'),
    ]),
    Package('libsdl2-image-tests', [
        Rule('usr/libexec/installed-tests/SDL2_image/*', FORMATS, 'sdl2-image'),
    ]),
    Package('scorched3d-data', [
        Rule('usr/share/games/scorched3d/*.bmp', FORMATS, 'bmp-scorched3d', min_side=64),
    ]),
    # ---- heavy: only without --small (about 0.7 GB more). Not checked for
    # near-duplicates: openclipart ships variants of much of its clip art.
    Package('stellarium-data', heavy=True, rules=[
        *photos_2mp('stellarium', STELLARIUM, 'landscapes/mars/mars.png', 'landscapes/moon/apollo17.png',
                    'nebulae/default/virgo_cluster.png', 'textures/moon_4k.jpg'),
        Rule(STELLARIUM + 'nebulae/*', PHOTOS, 'stellarium-nebulae'),
        Rule(STELLARIUM + 'landscapes/*/fog*', SKIP),
        Rule(STELLARIUM + 'landscapes/*illum*', SKIP),
        Rule(STELLARIUM + 'landscapes/*', PHOTOS, 'stellarium-landscapes'),
        # planet maps, many the same pictures as pysatellites' maps
        Rule(STELLARIUM + 'textures/*', VARIANTS, 'stellarium-textures'),
        Rule(STELLARIUM + 'skycultures/*', ART, 'stellarium-skycultures'),
    ]),
    Package('openclipart-png', heavy=True, rules=[
        Rule('usr/share/openclipart/png/*', ART, 'openclipart'),
    ]),
    Package('tuxpaint-stamps-default', heavy=True, rules=[
        Rule('usr/share/tuxpaint/stamps/*', ART, 'tuxpaint-stamps'),
    ]),
    Package('gimp-help-en', heavy=True, license_note=(
        'gimp-help-en has no copyright file of its own (its doc folder is a symlink);\n'
        'gimp-help-common\'s says: "Files: * License: GFDL-NIV-1.2+".\n'), rules=[
        Rule('usr/share/gimp/2.0/help/en/images/filters/examples/*', VARIANTS, 'gimp-help-filter-examples'),
        Rule('usr/share/gimp/2.0/help/en/images/toolbox/warp-ex-*.png', FORMATS, 'apng-gimp-help'),
    ]),
    Package('endless-sky-high-dpi', heavy=True, rules=[
        Rule('*/images/land/*', VARIANTS, 'endless-sky-land-2x'),
    ]),
]

# Too small to be a picture (icons, 1-pixel spacers): dropped from the pools.
MIN_SIDE = {PHOTOS: 48, TESTIMAGES: 32, ART: 32}
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.apng', '.gif', '.bmp', '.dib', '.webp')


def selected_packages(small):
    return [p for p in PACKAGES if not (small and p.heavy)]


def selection_digest(small):
    """A digest of the rules and limits, so that a corpus is rebuilt when they
    change even if CORPUS_VERSION was not bumped."""
    parts = [repr((HUGE_SIDE, HUGE_PIXELS, MIN_2MP, sorted(MIN_SIDE.items()), IMAGE_EXTENSIONS))]
    for pkg in selected_packages(small):
        parts.append(repr((pkg.name, pkg.license_note)))
        for r in pkg.rules:
            parts.append(repr((type(r).__name__, r.pattern, r.category, r.group, r.min_side,
                               getattr(r, 'rest_group', None), sorted(getattr(r, 'photos', ())),
                               getattr(r, 'photo_category', None), getattr(r, 'main_category', None),
                               getattr(getattr(r, 'key_regex', None), 'pattern', None))))
    return hashlib.sha256('\n'.join(parts).encode()).hexdigest()[:16]


def stamp_text(small):
    names = ' '.join(p.name for p in selected_packages(small))
    return ('hashscreen test-image corpus\n'
            'corpus_version %d\n'
            'profile %s\n'
            'rules %s\n'
            'packages %s\n') % (CORPUS_VERSION, 'small' if small else 'full', selection_digest(small), names)


# ---------------------------------------------------------------- sniffing
# Each reader takes the whole file and returns (format, width, height,
# features) or None when the bytes are not that format. They read headers
# only and never raise on short or broken input (sniff() guards anyway).

def _u16be(b, o):
    return struct.unpack_from('>H', b, o)[0]


def _exif_orientation(tiff):
    """Orientation (tag 0x0112) from IFD0 of a TIFF-structured EXIF block."""
    if tiff[:2] == b'II':
        e = '<'
    elif tiff[:2] == b'MM':
        e = '>'
    else:
        return None
    ifd = struct.unpack_from(e + 'I', tiff, 4)[0]
    count = struct.unpack_from(e + 'H', tiff, ifd)[0]
    for i in range(min(count, 512)):
        at = ifd + 2 + 12 * i
        tag, typ = struct.unpack_from(e + 'HH', tiff, at)
        if tag == 0x0112:                       # SHORT as the standard says; some writers use (S)LONG
            if typ in (3, 8):
                return struct.unpack_from(e + 'H', tiff, at + 8)[0]
            if typ in (4, 9):
                return struct.unpack_from(e + 'I', tiff, at + 8)[0]
            return None
    return None


JPEG_SOF = {0xC0: 'baseline', 0xC1: 'extended', 0xC2: 'progressive', 0xC3: 'lossless',
            0xC5: 'differential', 0xC6: 'differential-progressive', 0xC7: 'differential-lossless',
            0xC9: 'arithmetic', 0xCA: 'arithmetic-progressive', 0xCB: 'arithmetic-lossless',
            0xCD: 'arithmetic-differential', 0xCE: 'arithmetic-differential-progressive',
            0xCF: 'arithmetic-differential-lossless'}


def read_jpeg(b):
    if b[:3] != b'\xff\xd8\xff':
        return None
    feats, w, h, orientation, adobe, pos = [], None, None, None, None, 2
    while pos + 4 <= len(b):
        if b[pos] != 0xFF:                      # garbage between segments
            pos += 1
            continue
        marker = b[pos + 1]
        if marker == 0xFF:                      # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):              # end of image / start of scan: header done
            break
        length = _u16be(b, pos + 2)
        seg = b[pos + 4:pos + 2 + length]
        if marker == 0xE1 and seg[:6] == b'Exif\x00\x00':
            feats.append('exif')
            try:
                orientation = _exif_orientation(seg[6:])
            except struct.error:
                feats.append('bad-exif')
        elif marker == 0xE2 and seg[:12] == b'ICC_PROFILE\x00':
            if 'icc' not in feats:
                feats.append('icc')
        elif marker == 0xEE and seg[:5] == b'Adobe' and len(seg) >= 12:
            adobe = seg[11]
        elif marker in JPEG_SOF and w is None and len(seg) >= 6:
            precision, h, w, ncomp = struct.unpack_from('>BHHB', seg, 0)
            feats.append(JPEG_SOF[marker])
            if precision != 8:
                feats.append('precision%d' % precision)
            feats.append({1: 'grey', 3: 'ycc', 4: 'cmyk'}.get(ncomp, 'components%d' % ncomp))
            if ncomp in (3, 4) and len(seg) >= 6 + 3 * ncomp:
                factors = [seg[6 + 3 * i + 1] for i in range(ncomp)]
                feats.append('sampling' + ','.join('%dx%d' % (f >> 4, f & 15) for f in factors))
        pos += 2 + length
    if orientation not in (None, 1):
        feats.append('orientation%d' % orientation)
    if adobe is not None and 'cmyk' in feats:
        feats.append('adobe-transform%d' % adobe)
    if not b.rstrip(b'\x00').endswith(b'\xff\xd9'):
        feats.append('no-EOI')
    return 'jpeg', w, h, feats


PNG_COLOUR = {0: 'grey', 2: 'rgb', 3: 'palette', 4: 'grey+alpha', 6: 'rgba'}


def read_png(b):
    if b[:8] != b'\x89PNG\r\n\x1a\n' or len(b) < 29 or b[12:16] != b'IHDR':
        return None
    w, h, depth, colour, _, _, interlace = struct.unpack_from('>IIBBBBB', b, 16)
    feats = ['bit%d' % depth, PNG_COLOUR.get(colour, 'colour%d' % colour)]
    if interlace:
        feats.append('interlaced')
    seen, pos, ended = set(), 8, False
    while pos + 8 <= len(b):
        length, kind = struct.unpack_from('>I4s', b, pos)
        seen.add(kind)
        pos += 12 + length
        if kind == b'IEND':
            ended = True
            break
    for kind, name in ((b'tRNS', 'tRNS'), (b'acTL', 'APNG'), (b'iCCP', 'icc'), (b'sRGB', 'srgb'),
                       (b'eXIf', 'exif'), (b'gAMA', 'gamma')):
        if kind in seen:
            feats.append(name)
    if not ended:
        feats.append('no-IEND')
    return 'png', w, h, feats


def _skip_gif_subblocks(b, pos):
    while b[pos]:
        pos += b[pos] + 1
    return pos + 1


def read_gif(b):
    if b[:6] not in (b'GIF87a', b'GIF89a') or len(b) < 13:
        return None
    w, h = struct.unpack_from('<HH', b, 6)
    feats, frames, pos, flags = [b[:6].decode().lower()], 0, 13, b[10]
    try:
        if flags & 0x80:
            pos += 3 << ((flags & 7) + 1)
        while True:
            block = b[pos]
            if block == 0x3B:                   # trailer
                break
            if block == 0x21:                   # extension
                if b[pos + 1] == 0xF9 and b[pos + 3] & 1 and 'transparent' not in feats:
                    feats.append('transparent')
                pos = _skip_gif_subblocks(b, pos + 2)
            elif block == 0x2C:                 # image descriptor
                frames += 1
                flags = b[pos + 9]
                if flags & 0x40 and 'interlaced' not in feats:
                    feats.append('interlaced')
                pos += 10
                if flags & 0x80:
                    pos += 3 << ((flags & 7) + 1)
                pos = _skip_gif_subblocks(b, pos + 1)   # + LZW minimum code size
            else:
                feats.append('bad-block')
                break
    except IndexError:
        feats.append('truncated')
    feats.append('frames%d' % frames)
    if frames > 1:
        feats.append('animated')
    return 'gif', w, h, feats


def read_webp(b):
    if len(b) < 30 or b[:4] != b'RIFF' or b[8:12] != b'WEBP':
        return None
    kind, w, h, feats = b[12:16], None, None, []
    if kind == b'VP8 ':
        w, h = (v & 0x3FFF for v in struct.unpack_from('<HH', b, 26))
    elif kind == b'VP8L':
        bits = int.from_bytes(b[21:25], 'little')
        w, h = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b'VP8X':
        flags = b[20]
        w, h = int.from_bytes(b[24:27], 'little') + 1, int.from_bytes(b[27:30], 'little') + 1
        feats.append('extended')
        for bit, name in ((0x02, 'animated'), (0x04, 'xmp'), (0x08, 'exif'), (0x10, 'alpha'), (0x20, 'icc')):
            if flags & bit:
                feats.append(name)
    else:
        return 'webp', None, None, ['unknown-chunk']
    kinds, pos = set(), 12                      # which bitstreams, also inside animation frames
    while pos + 8 <= len(b):
        ck, size = b[pos:pos + 4], struct.unpack_from('<I', b, pos + 4)[0]
        kinds.add(ck)
        if ck == b'ANMF' and pos + 24 + 4 <= len(b):
            kinds.add(b[pos + 24:pos + 28])
        pos += 8 + size + (size & 1)
    if b'VP8 ' in kinds:
        feats.append('lossy')
    if b'VP8L' in kinds:
        feats.append('lossless')
    return 'webp', w, h, feats


BMP_COMPRESSION = {0: 'rgb', 1: 'rle8', 2: 'rle4', 3: 'bitfields', 4: 'jpeg', 5: 'png', 6: 'alphabitfields',
                   11: 'cmyk', 12: 'cmyk-rle8', 13: 'cmyk-rle4'}
BMP_HEADERS = {12: 'os2v1-header', 16: 'os2v2-header', 40: 'v3-header', 52: 'v3-bitfields-header',
               56: 'v3-alpha-header', 64: 'os2v2-header', 108: 'v4-header', 124: 'v5-header'}


def read_bmp(b):
    if b[:2] != b'BM' or len(b) < 26:
        return None
    header = struct.unpack_from('<I', b, 14)[0]
    feats = [BMP_HEADERS.get(header, 'header%d' % header)]
    if header == 12:
        w, h, _, bpp = struct.unpack_from('<HHHH', b, 18)
        compression = 0
    elif header >= 16 and len(b) >= 30:
        w, h, _, bpp = struct.unpack_from('<iiHH', b, 18)
        compression = struct.unpack_from('<I', b, 30)[0] if header >= 20 and len(b) >= 34 else 0
    else:
        return 'bmp', None, None, feats
    feats += ['bpp%d' % bpp, BMP_COMPRESSION.get(compression, 'compression%d' % compression)]
    if h < 0:
        feats.append('top-down')
    return 'bmp', abs(w), abs(h), feats


READERS = (read_jpeg, read_png, read_gif, read_webp, read_bmp)


def sniff(data):
    for reader in READERS:
        try:
            found = reader(data)
        except (struct.error, IndexError, ValueError):
            found = None
        if found:
            return found
    return None


# ---------------------------------------------------------------- building
class Row:
    __slots__ = ('path', 'category', 'group', 'source', 'original', 'fmt', 'width', 'height', 'size',
                 'sha256', 'features')
    HEADER = ('path', 'category', 'group', 'source', 'original_path', 'format', 'width', 'height',
              'bytes', 'sha256', 'features')

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def pixels(self):
        return (self.width or 0) * (self.height or 0)

    def tsv(self):
        cells = (self.path, self.category, self.group, self.source, self.original, self.fmt or '',
                 self.width or '', self.height or '', self.size, self.sha256, ' '.join(self.features))
        return '\t'.join(str(c).replace('\t', ' ').replace('\n', ' ') for c in cells)

    @classmethod
    def parse(cls, line):
        c = line.rstrip('\n').split('\t')
        return cls(path=c[0], category=c[1], group=c[2], source=c[3], original=c[4], fmt=c[5] or None,
                   width=int(c[6]) if c[6] else None, height=int(c[7]) if c[7] else None, size=int(c[8]),
                   sha256=c[9], features=c[10].split())


# usr/share/doc/foo/x.png -> foo/x.png, usr/lib/python3/dist-packages/skimage/... -> skimage/...
_PREFIX = re.compile(r'^usr/(?:share|lib|libexec)/(?:(?:doc|games|cargo/registry|gocode/src|installed-tests'
                     r'|python3/dist-packages)/)?')


def flat_name(path):
    name = re.sub(r'[^A-Za-z0-9._+@-]', '_', _PREFIX.sub('', path).replace('/', '__'))
    if len(name) > 180:                         # keep well under NAME_MAX
        digest = hashlib.sha256(path.encode()).hexdigest()[:12]
        name = name[:80] + '--' + digest + '--' + name[-80:]
    return name


def deb_version(deb_path):
    parts = os.path.basename(deb_path).split('_')
    return parts[1].replace('%3a', ':') if len(parts) >= 3 else '?'


def find_deb(debs_dir, name):
    """The cached .deb of package `name`: the newest file if there are several."""
    found = [os.path.join(debs_dir, f) for f in os.listdir(debs_dir)
             if f.startswith(name + '_') and f.endswith('.deb') and f.count('_') == 2]
    return max(found, key=os.path.getmtime) if found else None


def classify(path, data, category, group, min_side=None):
    """Where one selected file goes: (category, group, (format, w, h, features)),
    or 'not-a-picture' (a .jxl, a README) or 'too-small' (an icon) when nowhere."""
    info = sniff(data)
    if info is None:
        if category != MALFORMED or not path.lower().endswith(IMAGE_EXTENSIONS):
            return 'not-a-picture'
        info = (None, None, None, [])
    fmt, w, h, feats = info
    limit = min_side or MIN_SIDE.get(category)
    if limit and (not w or not h or min(w, h) < limit):
        return 'too-small'
    if category == PHOTOS_2MP and (w or 0) * (h or 0) < MIN_2MP:
        category = PHOTOS
    if category != MALFORMED and w and h and max(w, h) >= HUGE_SIDE and w * h >= HUGE_PIXELS:
        category, group = FORMATS, 'huge-dimensions'
    return category, group, info


def extract_package(job):
    """Worker: read one .deb, write each selected picture to stage_dir and its
    copyright file to LICENSES/. Returns (version, candidates, skipped, error)
    where a candidate is (stage_file, original_path, sha256, category, group, info)."""
    index, deb, stage_dir, licenses_dir = job
    pkg = PACKAGES[index]
    version, candidates, skipped, families = deb_version(deb), [], 0, collections.defaultdict(list)
    got_license = False
    os.makedirs(stage_dir, exist_ok=True)

    def stage(path, data, category, group, min_side=None):
        nonlocal skipped
        where = classify(path, data, category, group, min_side)
        if where == 'too-small':
            skipped += 1
        if not isinstance(where, tuple):
            return
        staged = os.path.join(stage_dir, str(len(candidates)))
        with open(staged, 'wb') as fh:
            fh.write(data)
        candidates.append((staged, path, hashlib.sha256(data).hexdigest()) + where)

    try:
        proc = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', deb], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            with tarfile.open(fileobj=proc.stdout, mode='r|') as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    path = member.name[2:] if member.name.startswith('./') else member.name
                    if path == 'usr/share/doc/%s/copyright' % pkg.name:
                        with open(os.path.join(licenses_dir, pkg.name + '.copyright'), 'wb') as fh:
                            fh.write(tar.extractfile(member).read())
                        got_license = True
                        continue
                    rule = pkg.rule_for(path)
                    if rule is None or rule.category is SKIP:
                        continue
                    data = tar.extractfile(member).read()
                    if isinstance(rule, Family):
                        m = rule.key_regex.match(path)
                        families[(id(rule), m.group(1) if m else '')].append((rule, path, data))
                    else:
                        stage(path, data, rule.category, rule.group, rule.min_side)
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode(errors='replace').strip()
            status = proc.wait()
        if status != 0:
            raise RuntimeError('dpkg-deb failed (exit %d): %s' % (status, err[-300:]))
    except (RuntimeError, tarfile.TarError, OSError, EOFError) as e:
        return version, [], 0, str(e)
    for (_, key), files in families.items():
        def rank(item):                         # the wallpaper itself first: contents/images/, most pixels
            info = sniff(item[2])
            return ('/contents/images/' not in item[1], -((info[1] or 0) * (info[2] or 0)) if info else 0)
        files.sort(key=rank)
        for i, (rule, path, data) in enumerate(files):
            if i == 0 and '/contents/images/' in path:
                category = rule.photo_category if key in rule.photos else rule.main_category
                stage(path, data, category, rule.group)
            else:
                stage(path, data, VARIANTS, rule.rest_group)
    if not got_license:
        with open(os.path.join(licenses_dir, pkg.name + '.copyright'), 'w') as fh:
            fh.write(pkg.license_note or 'No copyright file found in %s.\n' % os.path.basename(deb))
    return version, candidates, skipped, None


def _worker_init():
    # The main process decides about interrupts; a worker just dies with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Builder:
    """Merges the workers' candidates in package order: the first package
    listed keeps a file that several ship (same SHA-256)."""

    def __init__(self, out):
        self.out, self.rows, self.seen = out, [], set()
        self.duplicates = self.too_small = 0
        self.per_package = collections.OrderedDict()
        self.missing = []

    def merge(self, pkg, version, candidates, skipped):
        before = len(self.rows)
        self.too_small += skipped
        for staged, original, digest, category, group, (fmt, w, h, feats) in candidates:
            if digest in self.seen:
                self.duplicates += 1
                os.remove(staged)
                continue
            self.seen.add(digest)
            rel = '/'.join((category, group, flat_name(original)))
            full = os.path.join(self.out, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.replace(staged, full)
            self.rows.append(Row(path=rel, category=category, group=group, source='%s=%s' % (pkg.name, version),
                                 original=original, fmt=fmt, width=w, height=h, size=os.path.getsize(full),
                                 sha256=digest, features=feats))
        self.per_package[pkg.name] = (version, len(self.rows) - before)
        return len(self.rows) - before

    def write_manifest(self):
        with open(os.path.join(self.out, 'MANIFEST.tsv'), 'w') as fh:
            fh.write('\t'.join(Row.HEADER) + '\n')
            for row in self.rows:
                fh.write(row.tsv() + '\n')


def summary_text(rows, per_package=None, missing=(), duplicates=None, too_small=None):
    out = []
    by_cat = collections.Counter(r.category for r in rows)
    out.append('files by category:')
    for cat in CATEGORIES:
        out.append('  %-12s %6d' % (cat, by_cat.get(cat, 0)))
    out.append('  %-12s %6d' % ('total', len(rows)))
    out.append('files by format (malformed/ apart):')
    for fmt, n in collections.Counter(r.fmt or 'unknown' for r in rows if r.category != MALFORMED).most_common():
        out.append('  %-12s %6d' % (fmt, n))
    out.append('malformed/ by sniffed format:')
    for fmt, n in collections.Counter(r.fmt or 'unknown' for r in rows if r.category == MALFORMED).most_common():
        out.append('  %-12s %6d' % (fmt, n))
    big = [r for r in rows if r.category == PHOTOS_2MP]
    jpeg_big = [r for r in big if r.fmt == 'jpeg' and r.pixels >= MIN_2MP]
    out.append('photos-2mp: %d files, %d of them JPEG >= 2 MP; %.1f MP largest, %.1f MP mean'
               % (len(big), len(jpeg_big), max([r.pixels for r in big] or [0]) / 1e6,
                  (sum(r.pixels for r in big) / len(big) / 1e6) if big else 0))
    out.append('pool of distinct pictures (%s): %d' % (', '.join(POOLS), sum(by_cat.get(c, 0) for c in POOLS)))

    def has(r, *words):
        return all(w in r.features for w in words)
    valid = [r for r in rows if r.category != MALFORMED]
    features = [
        ('JPEG progressive', lambda r: r.fmt == 'jpeg' and has(r, 'progressive')),
        ('JPEG arithmetic coded', lambda r: r.fmt == 'jpeg' and any(f.startswith('arithmetic') for f in r.features)),
        ('JPEG CMYK/YCCK', lambda r: r.fmt == 'jpeg' and has(r, 'cmyk')),
        ('JPEG greyscale', lambda r: r.fmt == 'jpeg' and has(r, 'grey')),
        ('JPEG 12-bit', lambda r: r.fmt == 'jpeg' and has(r, 'precision12')),
        ('JPEG EXIF orientation 2-8', lambda r: any(f.startswith('orientation') for f in r.features)),
        ('JPEG with ICC profile', lambda r: r.fmt == 'jpeg' and has(r, 'icc')),
        ('PNG 16-bit', lambda r: r.fmt == 'png' and has(r, 'bit16')),
        ('PNG palette', lambda r: r.fmt == 'png' and has(r, 'palette')),
        ('PNG palette + tRNS', lambda r: r.fmt == 'png' and has(r, 'palette', 'tRNS')),
        ('PNG greyscale', lambda r: r.fmt == 'png' and (has(r, 'grey') or has(r, 'grey+alpha'))),
        ('PNG interlaced', lambda r: r.fmt == 'png' and has(r, 'interlaced')),
        ('PNG animated (APNG)', lambda r: r.fmt == 'png' and has(r, 'APNG')),
        ('GIF animated', lambda r: r.fmt == 'gif' and has(r, 'animated')),
        ('GIF interlaced', lambda r: r.fmt == 'gif' and has(r, 'interlaced')),
        ('WebP lossy', lambda r: r.fmt == 'webp' and has(r, 'lossy')),
        ('WebP lossless', lambda r: r.fmt == 'webp' and has(r, 'lossless')),
        ('WebP alpha', lambda r: r.fmt == 'webp' and has(r, 'alpha')),
        ('WebP animated', lambda r: r.fmt == 'webp' and has(r, 'animated')),
        ('BMP', lambda r: r.fmt == 'bmp'),
        ('BMP RLE', lambda r: r.fmt == 'bmp' and (has(r, 'rle8') or has(r, 'rle4'))),
        ('BMP bitfields', lambda r: r.fmt == 'bmp' and has(r, 'bitfields')),
        ('BMP top-down', lambda r: r.fmt == 'bmp' and has(r, 'top-down')),
        ('a side >= 10000 px', lambda r: max(r.width or 0, r.height or 0) >= HUGE_SIDE),
    ]
    out.append('format features (all but malformed/):')
    for name, test in features:
        out.append('  %-28s %6d' % (name, sum(1 for r in valid if test(r))))
    if per_package is not None:
        out.append('files kept per package:')
        for name, (version, n) in per_package.items():
            out.append('  %-44s %6d' % ('%s %s' % (name, version), n))
    if missing:
        out.append('packages missing (not downloaded or unreadable): ' + ' '.join(missing))
    if duplicates is not None:
        out.append('identical files stored once: %d skipped; icons and other too-small pictures: %d skipped'
                   % (duplicates, too_small))
    out.append('total: %d files, %.1f MB' % (len(rows), sum(r.size for r in rows) / 1e6))
    return '\n'.join(out) + '\n'


def check_minimums(rows):
    failures = []
    for what, minimum, test in MINIMUMS:
        n = sum(1 for r in rows if test(r))
        if n < minimum:
            failures.append('%s: %d, need >= %d' % (what, n, minimum))
    return failures


def cmd_build(small, debs, out):
    builder = Builder(out)
    stage_root, licenses = os.path.join(out, '.stage'), os.path.join(out, 'LICENSES')
    os.makedirs(licenses, exist_ok=True)
    todo, jobs = selected_packages(small), []
    for pkg in todo:
        deb = find_deb(debs, pkg.name)
        if deb is None:
            builder.missing.append(pkg.name)
        else:
            jobs.append((PACKAGES.index(pkg), deb, os.path.join(stage_root, pkg.name), licenses))
    for name in builder.missing:
        print('  %-48s missing: not downloaded' % name, flush=True)
    # dpkg-deb's decompression is the slow part: one package per core at a time,
    # the largest first, merged in list order so that the result does not
    # depend on timing.
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # leaving the with block stops the workers
    with multiprocessing.Pool(workers, initializer=_worker_init) as pool:
        pending = {}
        for job in sorted(jobs, key=lambda j: -os.path.getsize(j[1])):
            pending[job[0]] = pool.apply_async(extract_package, (job,))
        for i, (index, deb, _, _) in enumerate(jobs, 1):
            version, candidates, skipped, error = pending.pop(index).get()
            pkg = PACKAGES[index]
            if error:
                # A damaged cached .deb: forget it so that the next run downloads it again.
                print('WARNING: cannot read %s (%s); removed from the cache, skipped' % (deb, error),
                      file=sys.stderr, flush=True)
                builder.missing.append(pkg.name)
                try:
                    os.remove(deb)
                except OSError:
                    pass
                continue
            n = builder.merge(pkg, version, candidates, skipped)
            print('  (%d/%d) %-48s %5d files' % (i, len(jobs), pkg.name + ' ' + version, n), flush=True)
    shutil.rmtree(stage_root, ignore_errors=True)
    builder.write_manifest()
    text = summary_text(builder.rows, builder.per_package, builder.missing, builder.duplicates,
                        builder.too_small)
    with open(os.path.join(out, 'SUMMARY.txt'), 'w') as fh:
        fh.write(text)
    print(text, end='')
    failures = check_minimums(builder.rows)
    if failures:
        print('ERROR: the corpus is below its minimums:', file=sys.stderr)
        for f in failures:
            print('  ' + f, file=sys.stderr)
        if builder.missing:
            print('  missing packages: %s (a download problem? see the warnings above)'
                  % ' '.join(builder.missing), file=sys.stderr)
        return 1
    if builder.missing:
        print('WARNING: built without %s; the minimums still hold' % ' '.join(builder.missing), file=sys.stderr)
    with open(os.path.join(out, 'STAMP'), 'w') as fh:
        fh.write(stamp_text(small))
    return 0


def cmd_sniff(files):
    for f in files:
        with open(f, 'rb') as fh:
            info = sniff(fh.read())
        fmt, w, h, feats = info or ('unknown', '', '', [])
        print('\t'.join(str(x) for x in (f, fmt, w or '', h or '', ' '.join(feats))))
    return 0


def main(argv):
    args, small, opts = [], False, {}
    it = iter(argv[1:])
    for a in it:
        if a == '--small':
            small = True
        elif a in ('--debs', '--out'):
            opts[a] = next(it, None)
        else:
            args.append(a)
    cmd = args.pop(0) if args else ''
    if cmd == 'packages':
        print('\n'.join(p.name for p in selected_packages(small)))
        return 0
    if cmd == 'stamp':
        sys.stdout.write(stamp_text(small))
        return 0
    if cmd == 'build' and opts.get('--debs') and opts.get('--out'):
        try:
            return cmd_build(small, opts['--debs'], opts['--out'])
        except KeyboardInterrupt:
            print('interrupted', file=sys.stderr)
            return 130
    if cmd == 'sniff':
        return cmd_sniff(args)
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
