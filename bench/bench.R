# The R side of the benchmark: the same analyses as hcc_core's full refresh, timed inside R.
#
# Usage: Rscript bench/bench.R CONFIG.json COHORT.csv REPS OUT.json
#
# CONFIG.json is written by bench/run.py from hcc_core's own constants (level orders, Cox
# covariates, subgroups, Table 1 variables), so both sides analyse the same model.
# Timing uses Sys.time() (microsecond resolution) around each analysis and excludes R startup,
# package loading and reading the CSV. Each component is timed separately in every repetition;
# OUT.json holds all times plus a few result values for a cross-check against hcc_core.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
cfg <- fromJSON(args[1], simplifyVector = TRUE)
csv <- args[2]
reps <- as.integer(args[3])
out_path <- args[4]

t_read <- Sys.time()
d <- read.csv(csv, stringsAsFactors = FALSE, na.strings = c("", "NA"))
read_s <- as.numeric(Sys.time() - t_read, units = "secs")

# Categorical columns as factors in schema order (first level = reference), as hcc_core does.
for (col in names(cfg$levels)) {
  if (col %in% names(d)) d[[col]] <- factor(as.character(d[[col]]), levels = cfg$levels[[col]])
}
# Only levels present (as hcc_core's design matrix), so no all-NA coefficients.
d[] <- lapply(d, function(x) if (is.factor(x)) droplevels(x) else x)
# Dates parsed at load time, as load_cohort does (not part of the timed refresh).
for (col in grep("_date$", names(d), value = TRUE)) d[[col]] <- as.Date(d[[col]])
# Derived covariates as hcc_core.cox derives them (bclc_ab_vs_c, log10_afp) and the forest's
# AFP split.
d$bclc_ab_vs_c <- factor(ifelse(d$bclc_stage %in% c("C", "D"), "C", "A/B"), levels = c("A/B", "C"))
d$bclc_ab_vs_c[is.na(d$bclc_stage)] <- NA
d$log10_afp <- log10(pmax(d$afp_ng_ml, 1))
d$afp_400 <- factor(ifelse(is.na(d$afp_ng_ml), NA,
                           ifelse(d$afp_ng_ml >= 400, ">= 400", "< 400")),
                    levels = c("< 400", ">= 400"))

ENDPOINTS <- list(os = c("os_months", "os_event"), pfs = c("pfs_months", "pfs_event"))
surv_of <- function(data, ep) Surv(data[[ENDPOINTS[[ep]][1]]], data[[ENDPOINTS[[ep]][2]]])
GROUP <- "treatment_group"

# ---- survival ---------------------------------------------------------------------------
km <- function(ep) {
  s <- surv_of(d, ep)
  fit <- survfit(s ~ d[[GROUP]], conf.type = "log-log")
  tab <- summary(fit)$table                       # n, events, median and its CI
  at <- summary(fit, times = c(12, 24), extend = TRUE)  # landmark rates
  list(fit = fit, tab = tab, at = at)
}

logrank <- function(ep) survdiff(surv_of(d, ep) ~ d[[GROUP]])

pairwise_logrank <- function(ep, by = cfg$pairwise_by) {
  lv <- levels(droplevels(d[[by]]))
  pairs <- combn(lv, 2)
  p <- apply(pairs, 2, function(pr) {
    sub <- d[!is.na(d[[by]]) & d[[by]] %in% pr, ]
    sd <- survdiff(surv_of(sub, ep) ~ droplevels(sub[[by]]))
    pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)
  })
  p.adjust(p, "holm")
}

rmst <- function(ep, tau = cfg$tau) {
  fit <- survfit(surv_of(d, ep) ~ d[[GROUP]])
  summary(fit, rmean = tau)$table[, c("rmean", "se(rmean)")]
}

median_follow_up <- function(ep) {
  s <- surv_of(d, ep)
  rev <- Surv(s[, "time"], 1 - s[, "status"])
  summary(survfit(rev ~ 1))$table[c("median", "0.95LCL", "0.95UCL")]
}

overview <- function() {
  list(table(d[[GROUP]], d$local_modality, useNA = "ifany"),
       colSums(is.na(d)), range(d$treatment_start_date, na.rm = TRUE),
       sum(d$os_event, na.rm = TRUE), sum(d$pfs_event, na.rm = TRUE))
}

# ---- Cox --------------------------------------------------------------------------------
cox_formula <- function(ep, terms) {
  as.formula(paste0("Surv(", ENDPOINTS[[ep]][1], ", ", ENDPOINTS[[ep]][2], ") ~ ",
                    paste(terms, collapse = " + ")))
}

cox_multi <- function(ep, covs = cfg$cox_covariates) {
  fit <- coxph(cox_formula(ep, covs), data = d, ties = "efron")
  s <- summary(fit)                     # HR, CI, Wald p, concordance
  zph <- cox.zph(fit, transform = "km")   # PH check, as fit_cox reports
  list(coef = coef(fit), table = s$conf.int, p = s$coefficients[, "Pr(>|z|)"],
       concordance = fit$concordance[["concordance"]], zph = zph$table)
}

cox_uni <- function(ep, covs = cfg$cox_covariates) {
  lapply(covs, function(v) {
    fit <- coxph(cox_formula(ep, v), data = d, ties = "efron")
    summary(fit)$conf.int
  })
}

subgroup_forest <- function(ep, subgroups = cfg$subgroups) {
  overall <- summary(coxph(cox_formula(ep, GROUP), data = d, ties = "efron"))$conf.int
  lapply(subgroups, function(v) {
    dd <- d[!is.na(d[[v]]), ]
    dd[[v]] <- droplevels(dd[[v]])
    per_level <- lapply(levels(dd[[v]]), function(l) {
      sub <- dd[dd[[v]] == l, ]
      if (length(unique(sub[[GROUP]])) < 2 || sum(sub[[ENDPOINTS[[ep]][2]]]) == 0) return(NULL)
      fit <- coxph(cox_formula(ep, GROUP), data = sub, ties = "efron")
      summary(fit)$conf.int
    })
    full <- coxph(cox_formula(ep, paste0(GROUP, " * ", v)), data = dd, ties = "efron")
    main <- coxph(cox_formula(ep, paste0(GROUP, " + ", v)), data = dd, ties = "efron")
    lrt <- 2 * (full$loglik[2] - main$loglik[2])
    df_int <- sum(!is.na(coef(full))) - sum(!is.na(coef(main)))  # aliased terms are NA
    list(per_level, p_interaction = if (df_int > 0) pchisq(lrt, df_int, lower.tail = FALSE))
  })
}

# ---- Table 1, response, adverse events (the base-R tests hcc_core mirrors) ----------------
contingency <- function(tab, fisher = "auto") {
  tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  if (nrow(tab) < 2 || ncol(tab) < 2) return(NULL)
  ch <- suppressWarnings(chisq.test(tab, correct = FALSE))
  fp <- NA
  if (fisher == "always" || min(ch$expected) < 5) {
    fp <- if (all(dim(tab) == 2)) fisher.test(tab)$p.value
          else fisher.test(tab, simulate.p.value = TRUE, B = 10000)$p.value
  }
  c(ch$statistic, ch$p.value, fp)
}

shapiro_normal <- function(x) {
  if (length(x) < 3 || diff(range(x)) == 0) return(FALSE)
  if (length(x) > 5000) x <- sample(x, 5000)
  shapiro.test(x)$p.value >= 0.05
}

table_one <- function(vars = cfg$table_one_variables) {
  g <- d[[GROUP]]
  lapply(vars, function(v) {
    x <- d[[v]]
    if (is.numeric(x)) {
      xs <- split(x[!is.na(x) & !is.na(g)], droplevels(g[!is.na(x) & !is.na(g)]))
      normal <- all(vapply(xs, shapiro_normal, logical(1)))
      stats <- lapply(xs, function(v) c(mean(v), sd(v), quantile(v, c(.25, .5, .75), type = 6)))
      test <- if (normal) t.test(xs[[1]], xs[[2]], var.equal = TRUE)$p.value
              else wilcox.test(xs[[1]], xs[[2]], exact = FALSE, correct = FALSE)$p.value
      list(stats, test)
    } else {
      tab <- table(g, x)
      list(prop.table(tab, 1), contingency(tab))
    }
  })
}

response <- function() {
  tab <- table(d[[GROUP]], d$best_response)
  n <- rowSums(tab)
  k <- list(CR = tab[, "CR"], PR = tab[, "PR"], SD = tab[, "SD"], PD = tab[, "PD"],
            NE = tab[, "NE"], ORR = tab[, "CR"] + tab[, "PR"],
            DCR = tab[, "CR"] + tab[, "PR"] + tab[, "SD"])
  lapply(names(k), function(name) {
    kk <- k[[name]]
    ci <- lapply(seq_along(kk), function(i) binom.test(kk[i], n[i])$conf.int)
    wil <- lapply(seq_along(kk), function(i) prop.test(kk[i], n[i], correct = FALSE)$conf.int)
    test <- if (name %in% c("ORR", "DCR")) contingency(cbind(kk, n - kk), fisher = "always")
    list(ci, wil, test)
  })
}

adverse_events <- function() {
  ae <- grep("^ae_", names(d), value = TRUE)
  grades <- as.matrix(d[, ae])
  worst <- do.call(pmax, as.data.frame(grades))  # any adverse event: worst grade over terms
  mats <- cbind(ae_any = worst, grades)
  g <- d[[GROUP]]
  bands <- list(any = c(1, 5), "1-2" = c(1, 2), ">=3" = c(3, 5))
  lapply(colnames(mats), function(term) {
    x <- mats[, term]
    lapply(bands, function(b) {
      ev <- x >= b[1] & x <= b[2]
      tab <- table(g, factor(ev, levels = c(TRUE, FALSE)))
      contingency(tab)
    })
  })
}

# ---- the refresh ------------------------------------------------------------------------
components <- list(
  filter = function() {  # the filter click: keep the chosen BCLC stages (all of them here)
    d <<- d[!is.na(d$bclc_stage) & d$bclc_stage %in% cfg$filter_bclc, , drop = FALSE]
    nrow(d)
  },
  overview = function() list(overview(), median_follow_up("os"), median_follow_up("pfs")),
  km = function() list(km("os"), km("pfs")),
  logrank = function() list(logrank("os"), logrank("pfs")),
  pairwise_logrank = function() list(pairwise_logrank("os"), pairwise_logrank("pfs")),
  rmst = function() list(rmst("os"), rmst("pfs")),
  cox_multivariable = function() list(cox_multi("os"), cox_multi("pfs")),
  cox_univariable = function() list(cox_uni("os"), cox_uni("pfs")),
  subgroup_forest = function() list(subgroup_forest("os"), subgroup_forest("pfs")),
  table_one = function() table_one(),
  response = function() response(),
  adverse_events = function() adverse_events()
)
# Components hcc_core could not run (not available yet) are skipped on both sides.
if (!is.null(cfg$components)) components <- components[intersect(names(components), cfg$components)]

times <- setNames(lapply(names(components), function(x) numeric(0)), names(components))
results <- NULL
set.seed(1)
for (r in seq_len(reps)) {
  res <- list()
  for (name in names(components)) {
    t0 <- Sys.time()
    res[[name]] <- components[[name]]()
    times[[name]] <- c(times[[name]], as.numeric(Sys.time() - t0, units = "secs"))
  }
  results <- res
}

# A few values to cross-check hcc_core against (from the last repetition).
check <- list()
if (!is.null(results$logrank)) {
  check$logrank_chisq_os <- results$logrank[[1]]$chisq
  check$logrank_chisq_pfs <- results$logrank[[2]]$chisq
}
if (!is.null(results$km)) {
  check$median_os <- unname(results$km[[1]]$tab[, "median"])
  check$median_pfs <- unname(results$km[[2]]$tab[, "median"])
}
if (!is.null(results$cox_multivariable)) {
  check$cox_coef_os <- as.list(results$cox_multivariable[[1]]$coef)
  check$cox_coef_pfs <- as.list(results$cox_multivariable[[2]]$coef)
  check$concordance_os <- results$cox_multivariable[[1]]$concordance
}
if (!is.null(results$rmst)) check$rmst_os <- unname(results$rmst[[1]][, "rmean"])

write_json(list(n = nrow(d), reps = reps, read_s = read_s, times = times, check = check,
                r_version = R.version.string,
                survival_version = as.character(packageVersion("survival"))),
           out_path, auto_unbox = TRUE, digits = NA)
