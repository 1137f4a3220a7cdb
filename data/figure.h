/*
data/figure.h — the default run's figure, written by the program itself as SVG: test
accuracy, reward and completion length of RLME and RLVR against the RL step. Included by
train_rlme.c after the loops (it reads their RLResult).
*/
// ----------------------------------------------------------------------------
// the figure: test accuracy, reward and completion length against the RL step

typedef struct { const char *name, *color; const RLResult *r; } Curve;

// What a panel plots of a run (what: 0 greedy test accuracy, 1 reward, 2 completion length,
// 3 sampled test accuracy, drawn dashed in panel 0): its i-th point and how many there are.
static int curve_points(const RLResult *r, int what) { return what == 0 || what == 3 ? r->n_test : r->steps; }
static double curve_x(const RLResult *r, int what, int i) { return what == 0 || what == 3 ? r->test_step[i] : i + 1; }
static double curve_y(const RLResult *r, int what, int i) {
    return what == 0 ? 100.0 * r->test[i].greedy : what == 3 ? 100.0 * r->test[i].sampled
         : what == 1 ? r->reward[i + 1] : r->length[i + 1];
}

// one panel: axes at (x0, y0) of size w x h, a polyline per curve
static void svg_panel(FILE *f, double x0, double y0, double w, double h, const char *title, const char *ylabel,
                      const Curve *curves, int n_curves, int what, float base_line) {
    double ymin = INFINITY, ymax = -INFINITY;
    int xmax = 1;
    for (int c = 0; c < n_curves; c++) {
        if (curves[c].r->steps > xmax) xmax = curves[c].r->steps;
        for (int i = 0; i < curve_points(curves[c].r, what); i++) {
            double v = curve_y(curves[c].r, what, i);
            ymin = fmin(ymin, v); ymax = fmax(ymax, v);
        }
    }
    if (what == 0) { ymin = 0; ymax = 100; }
    if (!(ymax > ymin)) { ymin -= 1; ymax += 1; }
    double pad = what == 0 ? 0 : 0.05 * (ymax - ymin);
    ymin -= pad; ymax += pad;
    #define SX(s) (x0 + w * (double)(s) / xmax)
    #define SY(v) (y0 + h - h * ((v) - ymin) / (ymax - ymin))
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#888'/>\n", x0, y0, w, h);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='14' text-anchor='middle'>%s</text>\n", x0 + w / 2, y0 - 8, title);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle' transform='rotate(-90 %.1f %.1f)'>"
               "%s</text>\n", x0 - 38, y0 + h / 2, x0 - 38, y0 + h / 2, ylabel);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>RL step</text>\n", x0 + w / 2, y0 + h + 30);
    for (int k = 0; k <= 4; k++) { // ticks
        double v = ymin + (ymax - ymin) * k / 4, s = (double)xmax * k / 4;
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%.*f</text>\n", x0 - 4, SY(v) + 3,
                what == 1 ? 2 : 0, v);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%.0f</text>\n", SX(s), y0 + h + 14, s);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", x0, SY(v), x0 + w, SY(v));
    }
    if (what == 0 && base_line >= 0) {
        double yb = SY(100.0 * base_line);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555' stroke-dasharray='5,4'/>\n", x0, yb,
                x0 + w, yb);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='10' fill='#555'>base %.1f%%</text>\n", x0 + 4, yb - 4,
                100.0 * base_line);
    }
    int kinds[2] = {what, 3}, n_kinds = what == 0 ? 2 : 1; // panel 0 also draws the sampled accuracy, dashed
    for (int c = 0; c < n_curves; c++) for (int q = 0; q < n_kinds; q++) {
        int k = kinds[q];
        if (k == 3 && isnan(curve_y(curves[c].r, 3, 0))) continue; // (rl --eval-k 0)
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", curves[c].color,
                k == 3 ? " stroke-dasharray='6,3'" : "");
        for (int i = 0; i < curve_points(curves[c].r, k); i++)
            fprintf(f, "%.1f,%.1f ", SX(curve_x(curves[c].r, k, i)), SY(curve_y(curves[c].r, k, i)));
        fprintf(f, "'/>\n");
    }
    #undef SX
    #undef SY
}

// DIR/curves.svg, written atomically: three panels side by side
static void write_curves_svg(const char *path, const RLResult *rlme, const RLResult *rlvr) {
    Curve curves[2] = {{"RLME (no labels)", "#d62728", rlme}, {"RLVR (labels)", "#1f77b4", rlvr}};
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f) die("out of memory while drawing %s", path);
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='1080' height='330' font-family='sans-serif'>\n"
               "<rect width='100%%' height='100%%' fill='white'/>\n"
               "<text x='540' y='18' font-size='15' text-anchor='middle'>RLME vs RLVR from the same base "
               "(synthetic GSM8K-style problems)</text>\n");
    for (int c = 0; c < 2; c++) // one legend for the three panels
        fprintf(f, "<line x1='%d' y1='31' x2='%d' y2='31' stroke='%s' stroke-width='3'/>"
                   "<text x='%d' y='35' font-size='12'>%s</text>\n",
                380 + 170 * c, 400 + 170 * c, curves[c].color, 405 + 170 * c, curves[c].name);
    svg_panel(f, 70, 60, 280, 220, "test accuracy (%): greedy, sampled - -", "accuracy %", curves, 2, 0,
              rlme->test[0].greedy);
    // the reward panel compares runs of one reward kind only: RLME's log p and RLVR's 0/1 differ in scale
    svg_panel(f, 420, 60, 280, 220, "mean reward (own scale per run)", "reward", curves, 2, 1, -1);
    svg_panel(f, 770, 60, 280, 220, "completion length (tokens)", "tokens", curves, 2, 2, -1);
    fprintf(f, "</svg>\n");
    fclose(f);
    write_file_atomic(path, mem, len, 0);
    free(mem);
}

