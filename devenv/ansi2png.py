#!/usr/bin/python3
"""Renders a tmux capture (`capture-pane -e -p`: text with SGR colour escapes) to PNG,
cell by cell, so screenshots show sextant exactly as a terminal drew it.
Usage: ansi2png.py CAPTURE.txt OUT.png [COLS ROWS]"""
import re
import sys
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
BG, FG = (26, 27, 38), (192, 202, 245)
BASE16 = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
          (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255)]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse(text):
    """Yields rows of cells (char, fg, bg, bold)."""
    rows = []
    fg, bg, bold, rev = None, None, False, False
    for line in text.split("\n"):
        row = []
        for part in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if part.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in re.split("[;:]", part[2:-1])] or [0]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        fg, bg, bold, rev = None, None, False, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif c == 7:
                        rev = True
                    elif c == 27:
                        rev = False
                    elif 30 <= c <= 37:
                        fg = BASE16[c - 30]
                    elif 90 <= c <= 97:
                        fg = BASE16[c - 90 + 8]
                    elif 40 <= c <= 47:
                        bg = BASE16[c - 40]
                    elif 100 <= c <= 107:
                        bg = BASE16[c - 100 + 8]
                    elif c == 39:
                        fg = None
                    elif c == 49:
                        bg = None
                    elif c in (38, 48) and i + 1 < len(codes):
                        if codes[i + 1] == 2 and i + 4 < len(codes):
                            col = tuple(codes[i + 2:i + 5])
                            i += 4
                        elif codes[i + 1] == 5 and i + 2 < len(codes):
                            col = xterm256(codes[i + 2])
                            i += 2
                        else:
                            col = None
                        if c == 38:
                            fg = col
                        else:
                            bg = col
                    i += 1
            else:
                for ch in part:
                    f, b = fg or FG, bg or BG
                    if rev:
                        f, b = b, f
                    row.append((ch, f, b, bold))
        rows.append(row)
    return rows


# Bit of each braille dot, by (column, row) in the 2x4 cell.
DOTS = {(0, 0): 0x01, (0, 1): 0x02, (0, 2): 0x04, (1, 0): 0x08, (1, 1): 0x10, (1, 2): 0x20, (0, 3): 0x40, (1, 3): 0x80}


def braille(d, bits, px, py, cw, ch, fill):
    """Draws braille dots directly: the monospace font has no braille glyphs."""
    for (cx, cy), bit in DOTS.items():
        if bits & bit:
            x = px + cw * (0.3 + 0.4 * cx)
            y = py + ch * (0.14 + 0.24 * cy)
            d.ellipse([x - 1.4, y - 1.4, x + 1.4, y + 1.4], fill=fill)


def main():
    src, out = sys.argv[1], sys.argv[2]
    rows = parse(open(src, encoding="utf-8", errors="replace").read())
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else max(len(r) for r in rows)
    nrows = int(sys.argv[4]) if len(sys.argv) > 4 else len(rows)
    font, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    cw = int(font.getlength("M"))
    ch = SIZE + 4
    img = Image.new("RGB", (cols * cw + 16, nrows * ch + 16), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows[:nrows]):
        for x, (c, f, b, bd) in enumerate(row[:cols]):
            px, py = 8 + x * cw, 8 + y * ch
            if b != BG:
                d.rectangle([px, py, px + cw, py + ch], fill=b)
            if 0x2800 < ord(c) <= 0x28FF:
                braille(d, ord(c) - 0x2800, px, py, cw, ch, f)
            elif c != " ":
                d.text((px, py + 1), c, font=bold if bd else font, fill=f)
    img.save(out)


if __name__ == "__main__":
    main()
