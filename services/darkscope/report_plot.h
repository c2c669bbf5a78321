/*  report_plot.h - gnuplot for the report: the blocks of report.gp, its
    strings, rasters, and the gnuplot process that renders them.

    Every figure is one block of report.gp that writes fig-<name>.svg
    (gnuplot's svg terminal, `noenhanced` so no name is read as markup;
    gnuplot escapes '<' and '&' in the SVG it writes).  Names from the
    data go into single-quoted gnuplot strings as valid UTF-8.  A figure
    with too many points to draw as SVG elements draws a raster instead:
    fig-<name>.raster, one byte per cell, which gnuplot embeds in the SVG
    as a PNG image.  gnuplot runs once, in the report directory, as a
    child process: found on PATH, or at $DARKSCOPE_GNUPLOT if set.  It
    writes fig-<name>.svg.tmp (the script's output names end in the
    variable svg_tmp, '' unless set), each renamed into place once every
    figure is drawn.
*/
#ifndef DS_REPORT_PLOT_H
#define DS_REPORT_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <msgpack.h>
#include "report_data.h"
#include "report_dir.h"

//  Starts the block of figure `name` in the script: reset, an SVG of
//  width x height pixels written to 'fig-<name>.svg'.svg_tmp (the script
//  defines svg_tmp as '' when it is not given: ds_rplot_head), the common style.
void ds_rplot_begin (FILE *gp, const char *name, const char *title, int width, int height);

//  Starts report.gp: a comment line (text, a format with args) and svg_tmp.
void ds_rplot_head (FILE *gp, const char *comment);

//  Writes a single-quoted gnuplot string of len bytes at ptr (valid UTF-8,
//  '' for a quote; invalid bytes and controls as '?').
void ds_rplot_str (FILE *gp, const char *ptr, size_t len);

//  Writes tic labels "'a' 0, 'b' 1, ..." for an array of strings (the
//  caller has checked that every element is a string).
void ds_rplot_tics (FILE *gp, const msgpack_object *names);

//  Writes width x height cells (row by row, bottom row first) to
//  fig-<name>.raster in dir.  Returns 0 or -1.
int ds_rplot_raster_write (ds_rdir_t *dir, const char *name, const uint8_t *cells, int width, int height);

//  Plots fig-<name>.raster as an image whose cells are dx by dy from
//  (x0, y0): cbrange [0:dark], 0 white, 1 `light`, shading to `color` at dark.
void ds_rplot_raster_plot (FILE *gp, const char *name, int width, int height,
                           double x0, double y0, double dx, double dy,
                           int dark, const char *light, const char *color);

//  Runs gnuplot on report.gp in dir's work directory (svg_tmp '.tmp'),
//  checks that it wrote a non-empty fig-<name>.svg.tmp for each of the
//  count names and renames them to fig-<name>.svg.  Returns 0, or -1
//  after recording why in errors (not found, failed: its first error line
//  is quoted and report.gp.log kept there, which a staged report discards
//  with the rest; the temporary SVGs removed, older SVGs kept).
int ds_rplot_run (ds_rdir_t *dir, ds_rdata_t *errors, const char *const *names, size_t count);

#endif
