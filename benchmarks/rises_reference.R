# Reference rise detection with R's surveillance package, for benchmarks/rises_bench.py.
#
# Usage: Rscript rises_reference.R counts.csv params.csv out.csv
#   counts.csv: area,week,count (week as YYYY-MM-DD Mondays, every area every week)
#   params.csv: name,value (b, w, alpha, no_periods, past_weeks_not_included,
#               weights_threshold, trend, p_threshold_trend, threshold, min_cases,
#               min_cases_weeks, first, ears_baseline, ears_alpha, ears_min_sigma)
#               where first is the 1-based index of the first week to judge.
#   out.csv:    method,area,week,upper,alarm (rows of the judged weeks only)

suppressPackageStartupMessages(library(surveillance))

args <- commandArgs(trailingOnly = TRUE)
counts <- read.csv(args[1], colClasses = c("character", "character", "integer"))
params <- read.csv(args[2], colClasses = "character")
p <- setNames(params$value, params$name)
num <- function(name) as.numeric(p[[name]])

areas <- unique(counts$area)
weeks <- sort(unique(counts$week))
observed <- matrix(0L, nrow = length(weeks), ncol = length(areas),
                   dimnames = list(NULL, areas))
observed[cbind(match(counts$week, weeks), match(counts$area, areas))] <- counts$count
series <- sts(observed = observed, epoch = as.Date(weeks), frequency = 52)
judged <- num("first"):length(weeks)

flexible <- farringtonFlexible(series, control = list(
  range = judged, b = num("b"), w = num("w"), alpha = num("alpha"),
  noPeriods = num("no_periods"), pastWeeksNotIncluded = num("past_weeks_not_included"),
  weightsThreshold = num("weights_threshold"), reweight = TRUE,
  trend = as.logical(p[["trend"]]), pThresholdTrend = num("p_threshold_trend"),
  thresholdMethod = c(negbin = "nbPlugin", power = "delta")[[p[["threshold"]]]],
  powertrans = "2/3", limit54 = c(num("min_cases"), num("min_cases_weeks")),
  glmWarnings = FALSE))

c3 <- earsC(series, control = list(
  range = judged, method = "C3", baseline = num("ears_baseline"),
  alpha = num("ears_alpha"), minSigma = num("ears_min_sigma")))

long <- function(result, method) {
  data.frame(
    method = method,
    area = rep(areas, each = length(judged)),
    week = rep(weeks[judged], times = length(areas)),
    upper = as.vector(upperbound(result)),
    alarm = as.vector(result@alarm)
  )
}
write.csv(rbind(long(flexible, "farrington"), long(c3, "ears_c3")), args[3],
          row.names = FALSE, na = "")
