/*  report_plot.c - report.gp blocks, strings, rasters, the gnuplot run; see report_plot.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_plot.h"
#include "text.h"

extern char **environ;

#define S_SVG_TMP ".tmp"                //  gnuplot's output until every figure is drawn

void
ds_rplot_head (FILE *gp, const char *comment)
{
    fprintf (gp, "#  %s\n"
                 "if (!exists('svg_tmp')) svg_tmp = ''   # darkscope draws into fig-*.svg.tmp first\n",
             comment);
}

void
ds_rplot_begin (FILE *gp, const char *name, const char *title, int width, int height)
{
    fprintf (gp,
        "\n#  %s\n"
        "reset\n"
        "set terminal svg size %d,%d font 'Helvetica,13' noenhanced background rgb 'white'\n"
        "set output 'fig-%s.svg'.svg_tmp\n"
        "set datafile separator comma\n"
        "set border lw 1.2\n"
        "set grid lc rgb '#dddddd' lw 1\n",
        title, width, height, name);
}

static void
s_gp_ascii (FILE *out, unsigned char c)
{
    if (c == '\'')
        fputc ('\'', out);             //  '' stands for ' in a single-quoted string
    fputc (c, out);
}

void
ds_rplot_str (FILE *gp, const char *ptr, size_t len)
{
    fputc ('\'', gp);
    ds_text_write (gp, ptr, len, s_gp_ascii);
    fputc ('\'', gp);
}

void
ds_rplot_tics (FILE *gp, const msgpack_object *names)
{
    for (uint32_t i = 0; i < names->via.array.size; i++) {
        const msgpack_object *name = &names->via.array.ptr [i];
        fprintf (gp, "%s", i ? ", " : "");
        ds_rplot_str (gp, name->via.str.ptr, name->via.str.size);
        fprintf (gp, " %u", i);
    }
}

int
ds_rplot_raster_write (ds_rdir_t *dir, const char *name, const uint8_t *cells, int width, int height)
{
    char file [PATH_MAX];
    snprintf (file, sizeof file, "fig-%s.raster", name);
    FILE *out = ds_rdir_open (dir, file);
    if (out)
        fwrite (cells, 1, (size_t) width * height, out);
    return ds_rdir_close (dir, out, file);
}

void
ds_rplot_raster_plot (FILE *gp, const char *name, int width, int height,
                      double x0, double y0, double dx, double dy,
                      int dark, const char *light, const char *color)
{
    fprintf (gp,
        "unset colorbox\n"
        "set grid front\n"
        "set cbrange [0:%d]\n"
        "set palette defined (0 'white', 0.5 'white', 0.51 '%s', %d '%s')\n"
        "plot 'fig-%s.raster' binary array=(%d,%d) format='%%uint8' origin=(%.3f,%.6f) dx=%.6f dy=%.6f "
        "with image\n",
        dark, light, dark, color, name, width, height, x0 + dx / 2, y0 + dy / 2, dx, dy);
}

//  After a failed run: the reason, quoting gnuplot's first error line
//  (the full log stays for the user if kept: an unstaged directory; a
//  staged report's log goes with the rest of it).
static int
s_run_failed (ds_rdata_t *errors, const char *prog, int status, const char *log_path, bool kept)
{
    char line [512] = "", first [512] = "";
    FILE *log = fopen (log_path, "r");
    while (log && fgets (line, sizeof line, log)) {
        line [strcspn (line, "\n")] = 0;
        if (!*first && (strstr (line, "error") || strstr (line, "rror")))
            snprintf (first, sizeof first, "%s", line);
    }
    if (log)
        fclose (log);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
        return ds_rdata_fail (errors, "cannot run %s to draw the figures (exit 127: not found?)", prog);
    return ds_rdata_fail (errors, "%s failed drawing the figures (%s %d)%s%s%s%s",
                          prog, WIFEXITED (status) ? "exit" : "signal",
                          WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                          *first ? ": " : "", *first ? first : line,
                          kept ? "; see " : "", kept ? log_path : "");
}

//  Each drawn figure's temporary SVG renamed into place, or removed when
//  gnuplot failed (failed set); returns -1 for the first one missing.
static int
s_place_svgs (ds_rdir_t *dir, ds_rdata_t *errors, const char *prog,
              const char *const *names, size_t count, bool failed)
{
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        char tmp [PATH_MAX], path [PATH_MAX], shown [PATH_MAX];
        struct stat st;
        snprintf (tmp, sizeof tmp, "%s/fig-%s.svg" S_SVG_TMP, ds_rdir_work (dir), names [i]);
        snprintf (path, sizeof path, "%s/fig-%s.svg", ds_rdir_work (dir), names [i]);
        snprintf (shown, sizeof shown, "%s/fig-%s.svg", ds_rdir_path (dir), names [i]);
        if (failed || rc)
            unlink (tmp);
        else
        if (stat (tmp, &st) != 0 || st.st_size == 0) {
            unlink (tmp);
            rc = ds_rdata_fail (errors, "%s did not write %s", prog, shown);
        }
        else
        if (rename (tmp, path) != 0)
            rc = ds_rdata_fail (errors, "cannot write %s: %s", shown, strerror (errno));
    }
    return rc;
}

int
ds_rplot_run (ds_rdir_t *dir, ds_rdata_t *errors, const char *const *names, size_t count)
{
    const char *prog = getenv ("DARKSCOPE_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addchdir_np (&actions, ds_rdir_work (dir));
    posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&actions, 1, "report.gp.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2 (&actions, 1, 2);
    //  The figures are drawn under temporary names and renamed when all
    //  are done: a browser on the report never sees half an SVG.
    char *argv [] = { (char *) prog, (char *) "-d", (char *) "-e", (char *) "svg_tmp='" S_SVG_TMP "'",
                      (char *) "report.gp", NULL };
    pid_t pid;
    int rc = posix_spawnp (&pid, prog, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    if (rc != 0)
        return ds_rdata_fail (errors, "cannot run %s to draw the figures: %s%s", prog, strerror (rc),
                              rc == ENOENT ? " (install gnuplot, Debian package gnuplot-nox, or set DARKSCOPE_GNUPLOT)" : "");
    int status = 0;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR) {
            status = 0;                 //  SIGCHLD ignored: judge by the files below
            break;
        }
    char log_path [PATH_MAX];
    snprintf (log_path, sizeof log_path, "%s/report.gp.log", ds_rdir_work (dir));
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        s_place_svgs (dir, errors, prog, names, count, true);
        return s_run_failed (errors, prog, status, log_path, ds_rdir_work (dir) == ds_rdir_path (dir));
    }
    unlink (log_path);
    ds_rdir_unlink (dir, "report.gp.log");      //  an earlier failure's, when staged
    return s_place_svgs (dir, errors, prog, names, count, false);
}
