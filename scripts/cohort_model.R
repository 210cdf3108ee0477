#!/usr/bin/env Rscript
# The full cohort model (issue 19) on crampscan's tidy table:
#
#   Rscript scripts/cohort_model.R OUT/cohort_nights.csv [--check NAME=RR,...]
#
# Fits cramps per night as a Poisson mixed model (lme4::glmer) and a
# negative-binomial one (glmmTMB, nbinom2), with log exposure hours as
# offset, every diary covariate as a fixed effect and a random intercept
# per subject, and prints each term's rate ratio with its 95 % Wald
# interval. Covariates are the columns after the table's fixed ones:
#   - yes/no columns become a factor with reference "no" (term NAMEyes);
#   - a number that is never negative and has zeros becomes an indicator
#     NAME>0 (term NAME_gt0), as crampscan's screening analysis splits it;
#   - any other number stays continuous (rate ratio per unit);
#   - text columns become factors with their most common level as reference.
# Nights with a missing covariate or no exposure are left out.
#
# --check exercise_min=2,diuretic=1.5,magnesium_mg=1 exits 1 unless every
# term of each named covariate has the given rate ratio inside its
# interval in both models (what .ci/run checks on `simulate --cohort`).
# Needs R with lme4 and glmmTMB (Debian: r-cran-lme4 r-cran-glmmtmb).

suppressPackageStartupMessages({
  library(lme4)
})
has_tmb <- suppressPackageStartupMessages(requireNamespace("glmmTMB", quietly = TRUE))

fixed_columns <- c("subject", "night", "date", "exposure_h", "n_cramps",
                   "cramp_total_s", "sleep_h", "cramp_wake_min",
                   "n_cramp_awakenings")

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) {
  stop("usage: Rscript scripts/cohort_model.R OUT/cohort_nights.csv [--check NAME=RR,...]")
}
path <- args[1]
check <- NULL
if (length(args) >= 3 && args[2] == "--check") {
  pairs <- strsplit(strsplit(args[3], ",")[[1]], "=")
  check <- setNames(as.numeric(sapply(pairs, `[`, 2)), sapply(pairs, `[`, 1))
}

d <- read.csv(path, stringsAsFactors = FALSE, check.names = FALSE,
              na.strings = c("", "NA"))
if (!all(fixed_columns %in% names(d))) {
  stop(path, ": expected the columns ", paste(fixed_columns, collapse = ", "))
}
covariates <- setdiff(names(d), fixed_columns)
if (length(covariates) == 0) stop(path, ": no covariate columns")

terms <- character(0)      # model variable per covariate
term_of <- character(0)    # covariate of each model variable
for (c in covariates) {
  x <- d[[c]]
  v <- make.names(c)
  if (is.character(x) && all(tolower(na.omit(x)) %in% c("yes", "no"))) {
    d[[v]] <- factor(tolower(x), levels = c("no", "yes"))
  } else if (is.numeric(x) && all(na.omit(x) >= 0) && any(na.omit(x) == 0) &&
             any(na.omit(x) > 0)) {
    v <- make.names(paste0(c, "_gt0"))
    d[[v]] <- as.numeric(x > 0)
  } else if (is.numeric(x)) {
    d[[v]] <- x
  } else {
    counts <- sort(table(x), decreasing = TRUE)
    d[[v]] <- relevel(factor(x), ref = names(counts)[1])
  }
  terms <- c(terms, v)
  term_of[v] <- c
}
d$subject <- factor(d$subject)
keep <- complete.cases(d[, c("n_cramps", "exposure_h", terms)]) & d$exposure_h > 0
d <- d[keep, ]
cat(sprintf("%s: %d nights of %d subjects, %d cramps; covariates %s\n",
            path, nrow(d), nlevels(droplevels(d$subject)), sum(d$n_cramps),
            paste(covariates, collapse = ", ")))

rhs <- paste(c(paste0("`", terms, "`"), "offset(log(exposure_h))", "(1 | subject)"),
             collapse = " + ")
f <- as.formula(paste("n_cramps ~", rhs))

# Rate ratios with 95 % Wald intervals of a fit's fixed effects (no intercept).
ratios <- function(est, se, model) {
  est <- est[names(est) != "(Intercept)"]
  se <- se[names(est)]
  data.frame(model = model, term = gsub("`", "", names(est)),
             rate_ratio = exp(est), ci_low = exp(est - 1.96 * se),
             ci_high = exp(est + 1.96 * se), row.names = NULL)
}

pois <- glmer(f, data = d, family = poisson)
out <- ratios(fixef(pois), sqrt(diag(as.matrix(vcov(pois)))), "poisson (lme4::glmer)")
if (has_tmb) {
  nb <- glmmTMB::glmmTMB(f, data = d, family = glmmTMB::nbinom2)
  b <- glmmTMB::fixef(nb)$cond
  out <- rbind(out, ratios(b, sqrt(diag(vcov(nb)$cond)), "negative binomial (glmmTMB nbinom2)"))
} else {
  cat("glmmTMB is not installed: the negative-binomial model is skipped\n")
}
print(format(out, digits = 3), row.names = FALSE)

if (!is.null(check)) {
  # The covariate a term belongs to: the longest variable name it starts with.
  covariate_of <- function(term) {
    hits <- names(term_of)[startsWith(term, names(term_of))]
    if (length(hits) == 0) return(NA)
    term_of[hits[which.max(nchar(hits))]]
  }
  ok <- TRUE
  for (name in names(check)) {
    rows <- out[sapply(out$term, covariate_of) %in% name, ]
    if (nrow(rows) == 0) {
      cat(sprintf("check: no term for covariate %s\n", name))
      ok <- FALSE
      next
    }
    for (i in seq_len(nrow(rows))) {
      inside <- rows$ci_low[i] <= check[[name]] && check[[name]] <= rows$ci_high[i]
      cat(sprintf("check: %-38s %-16s known %.2f, estimate %.3f (%.3f-%.3f): %s\n",
                  rows$model[i], rows$term[i], check[[name]], rows$rate_ratio[i],
                  rows$ci_low[i], rows$ci_high[i], if (inside) "inside" else "OUTSIDE"))
      ok <- ok && inside
    }
  }
  if (!ok) quit(status = 1)
}
