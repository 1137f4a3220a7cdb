"""svgfig.py — what the figures of dev/ share: a white page with a title, a 0–100 axis
with grid lines, a legend entry, mean ± std, and an atomic write. Standard library only."""
import os
import statistics


def page(width, height, title, font_size=14):
    """The opening of an SVG: a white page with the title centred at the top."""
    return [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif'>",
            "<rect width='100%' height='100%' fill='white'/>",
            f"<text x='{width / 2}' y='20' font-size='{font_size}' text-anchor='middle'>{title}</text>"]


def percent_grid(x0, w, Y, unit=""):
    """Grid lines and labels at 0, 20, ..., 100 on the y axis Y (a value -> pixel map)."""
    return [f"<line x1='{x0}' y1='{Y(a)}' x2='{x0 + w}' y2='{Y(a)}' stroke='#eee'/>"
            f"<text x='{x0 - 6}' y='{Y(a) + 4}' font-size='11' text-anchor='end'>{a}{unit}</text>"
            for a in range(0, 101, 20)]


def legend_line(x, y, color, name):
    """A legend entry: a short thick line of the curve's colour, its name beside it."""
    return (f"<line x1='{x}' y1='{y}' x2='{x + 24}' y2='{y}' stroke='{color}' stroke-width='3'/>"
            f"<text x='{x + 30}' y='{y + 4}' font-size='12'>{name}</text>")


def mean_std(values):
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def save(path, svg):
    """Writes the SVG's lines to a temporary file and renames it over path."""
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(svg + ["</svg>"]) + "\n")
    os.replace(path + ".tmp", path)
