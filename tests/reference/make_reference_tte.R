# Reference values for hcc_core.competing (and the landmark / time-dependent / piecewise analyses),
# computed with R's cmprsk and survival packages.
#
# Run from the repository root:   Rscript tests/reference/make_reference_tte.R
# Writes tests/reference/data_tte_*.csv (the exact data the Python tests read) and
# tests/reference/tte_reference.json (committed, so the tests never need R).
# Every dataset is written to CSV and READ BACK first, so R and Python see the same doubles.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")

write_and_read <- function(df, name) {
  path <- file.path(out_dir, paste0("data_tte_", name, ".csv"))
  num <- vapply(df, is.numeric, logical(1))
  df_out <- df
  df_out[num] <- lapply(df[num], function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))
  write.csv(df_out, path, row.names = FALSE, na = "", quote = which(!num))
  read.csv(path, stringsAsFactors = FALSE, na.strings = "",
           colClasses = sapply(df, function(x) if (is.numeric(x)) "numeric" else "character"))
}
na_list <- function(x) lapply(as.numeric(x), function(v) if (is.na(v)) NULL else v)

# ---- datasets -------------------------------------------------------------------------------------
# Hand-made: ties of both causes and of censorings at event times, two groups.
small <- data.frame(
  patient_id = sprintf("s%02d", 1:20),
  pfs_months = c(1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 1, 1, 2, 3, 3, 4, 4, 6, 7, 8),
  pfs_event = c(1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0),
  progression_event = c(1, 1, 0, NA, 0, 1, NA, 1, 0, NA, 0, NA, 1, 1, 1, 0, NA, 1, 0, NA),
  treatment_group = rep(c("systemic", "local+systemic"), each = 10),
  stringsAsFactors = FALSE)
# Simulated: three groups, times on a half-month grid (many ties), both causes, censoring.
set.seed(16)
n <- 300
grp <- sample(c("A", "B", "C"), n, replace = TRUE)
x1 <- round(rnorm(n), 3)
x2 <- rbinom(n, 1, 0.4)
rate1 <- 0.05 * exp(0.4 * x1 + 0.5 * x2 + ifelse(grp == "B", 0.5, ifelse(grp == "C", -0.3, 0)))
rate2 <- 0.03 * exp(-0.3 * x1)
t1 <- rexp(n, rate1); t2 <- rexp(n, rate2); cens <- runif(n, 5, 40)
tt <- pmin(t1, t2, cens)
st <- ifelse(tt == cens, 0, ifelse(tt == t1, 1, 2))
sim <- data.frame(
  patient_id = sprintf("m%03d", 1:n), os_months = ceiling(tt * 2) / 2,
  os_event = as.numeric(st > 0),
  death_cause = ifelse(st == 1, "hcc", ifelse(st == 2, "other", NA)),
  bclc_stage = grp, x1 = x1, x2 = x2, stringsAsFactors = FALSE)
demo <- read.csv(file.path("data", "demo_cohort.csv"), stringsAsFactors = FALSE,
                 na.strings = c("", "NA"))
demo <- demo[, c("patient_id", "treatment_group", "age", "bclc_stage", "albi_grade",
                 "os_months", "os_event", "pfs_months", "pfs_event", "progression_event",
                 "death_cause", "local_start_months", "afp_ng_ml")]
small <- write_and_read(small, "small")
sim <- write_and_read(sim, "sim")
demo <- write_and_read(demo, "demo")

status_of <- function(d, endpoint) {
  if (endpoint == "ttp") {
    list(time = d$pfs_months,
         status = ifelse(d$pfs_event == 0, 0, ifelse(d$progression_event == 1, 1, 2)))
  } else {
    list(time = d$os_months,
         status = ifelse(d$os_event == 0, 0, ifelse(d$death_cause == "hcc", 1, 2)))
  }
}

# ---- cumulative incidence and Gray's test ---------------------------------------------------------
cif_case <- function(d, endpoint, by, grid) {
  s <- status_of(d, endpoint)
  ok <- !is.na(s$time) & !is.na(s$status)
  g <- if (is.null(by)) rep("all", nrow(d)) else d[[by]]
  fit <- cuminc(s$time[ok], s$status[ok], g[ok])
  tp <- timepoints(fit, grid)
  groups <- unique(g[ok])
  curves <- list()
  for (gr in groups) {
    key <- paste(gr, 1)
    est <- tp$est[key, ]; v <- tp$var[key, ]
    curves[[gr]] <- list(time = fit[[key]]$time, est = fit[[key]]$est, var = fit[[key]]$var,
                         grid_est = na_list(est), grid_var = na_list(v))
  }
  out <- list(grid = grid, curves = curves)
  if (!is.null(fit$Tests)) {
    out$tests <- list(
      stat = as.numeric(fit$Tests[, "stat"]), p = as.numeric(fit$Tests[, "pv"]),
      df = as.numeric(fit$Tests[, "df"]), cause = rownames(fit$Tests))
  }
  out
}

ref <- list(meta = list(R = R.version.string,
                        cmprsk = as.character(packageVersion("cmprsk")),
                        survival = as.character(packageVersion("survival"))))
ref$cif <- list(
  small_ttp = cif_case(small, "ttp", "treatment_group", c(0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)),
  small_ttp_all = cif_case(small, "ttp", NULL, c(0, 1, 2, 3, 4.5, 8)),
  sim_hcc = cif_case(sim, "hcc_death", "bclc_stage", c(0, 1, 2.5, 5, 10, 15, 20, 30, 39.5, 60)),
  demo_ttp = cif_case(demo, "ttp", "treatment_group", c(3, 6, 12, 18, 24, 36)),
  demo_hcc = cif_case(demo, "hcc_death", "treatment_group", c(3, 6, 12, 18, 24, 36))
)

# ---- Fine-Gray: crr, and coxph on finegray() data --------------------------------------------------
crr_case <- function(d, endpoint, X) {
  s <- status_of(d, endpoint)
  fit <- crr(s$time, s$status, cov1 = X, failcode = 1, cencode = 0)
  fd <- data.frame(time = s$time, status = factor(s$status, 0:2, c("censor", "event", "other")), X)
  fg <- finegray(Surv(time, status) ~ ., data = fd, etype = "event")
  form <- as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", paste(colnames(X), collapse = " + ")))
  cfit <- coxph(form, data = fg, weights = fgwt)
  list(terms = colnames(X), coef = unname(fit$coef), se = unname(sqrt(diag(fit$var))),
       converged = fit$converged,
       fg_coef = unname(coef(cfit)), fg_se = unname(sqrt(diag(cfit$naive.var %||% cfit$var))),
       fg_robust_se = unname(sqrt(diag(cfit$var))))
}
`%||%` <- function(a, b) if (is.null(a)) b else a
demo_x <- cbind(local = as.numeric(demo$treatment_group == "local+systemic"), age = demo$age)
ref$crr <- list(
  demo_ttp = crr_case(demo, "ttp", demo_x),
  demo_hcc = crr_case(demo, "hcc_death", demo_x[, "local", drop = FALSE]),
  sim_hcc = crr_case(sim, "hcc_death", cbind(x1 = sim$x1, x2 = sim$x2))
)

# ---- landmark: KM, log-rank and Cox on patients still at risk after `at` ---------------------------
landmark_case <- function(d, time_col, event_col, at, times) {
  lm <- d[!is.na(d[[time_col]]) & d[[time_col]] > at, ]
  lm$time <- lm[[time_col]] - at
  lm$event <- lm[[event_col]]
  lm$local <- as.numeric(lm$treatment_group == "local+systemic")
  km <- survfit(Surv(time, event) ~ treatment_group, data = lm, conf.type = "log-log")
  sm <- summary(km, times = times, extend = TRUE)
  lr <- survdiff(Surv(time, event) ~ treatment_group, data = lm)
  cx <- coxph(Surv(time, event) ~ local + age, data = lm, ties = "efron")
  list(at = at, n = nrow(lm), ids = lm$patient_id,
       km = list(strata = as.character(sm$strata), time = sm$time, surv = sm$surv,
                 lower = sm$lower, upper = sm$upper, n_risk = sm$n.risk),
       median = unname(summary(km)$table[, "median"]),
       logrank = list(chisq = lr$chisq, p = pchisq(lr$chisq, 1, lower.tail = FALSE)),
       cox = list(coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx))))))
}
ref$landmark <- list(
  demo_os_3 = landmark_case(demo, "os_months", "os_event", 3, c(0, 6, 12, 24)),
  demo_os_6 = landmark_case(demo, "os_months", "os_event", 6, c(0, 6, 12, 24)),
  demo_pfs_3 = landmark_case(demo, "pfs_months", "pfs_event", 3, c(0, 6, 12, 24))
)

# ---- time-dependent local therapy (tmerge + tdc), Simon-Makuch, naive ------------------------------
td_case <- function(d, time_col, event_col, times) {
  base <- d[!is.na(d[[time_col]]) & !is.na(d[[event_col]]), ]
  base$ftime <- base[[time_col]]; base$fevent <- base[[event_col]]
  ls <- base$local_start_months
  # local+systemic patients without a start date cannot be placed in time: excluded
  base <- base[!(base$treatment_group == "local+systemic" & is.na(ls)), ]
  ls <- base$local_start_months
  td <- tmerge(base[, c("patient_id", "age", "treatment_group")], base, id = patient_id,
               event = event(ftime, fevent))
  td <- tmerge(td, base, id = patient_id, local = tdc(ifelse(is.na(ls), NA, ls)))
  td$local[is.na(td$local)] <- 0
  cx <- coxph(Surv(tstart, tstop, event) ~ local + age, data = td, ties = "efron")
  naive <- coxph(Surv(ftime, fevent) ~ I(as.numeric(treatment_group == "local+systemic")) + age,
                 data = base, ties = "efron")
  sm <- survfit(Surv(tstart, tstop, event) ~ local, data = td, conf.type = "log-log")
  ss <- summary(sm, times = times, extend = TRUE)
  list(n_rows = nrow(td), tstart = td$tstart, tstop = td$tstop, event = td$event,
       local = td$local, id = td$patient_id,
       coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))),
       naive_coef = unname(coef(naive)), naive_se = unname(sqrt(diag(vcov(naive)))),
       sm = list(strata = as.character(ss$strata), time = ss$time, surv = ss$surv,
                 lower = ss$lower, upper = ss$upper, n_risk = ss$n.risk),
       sm_conf_type = sm$conf.type,
       sm_median = unname(summary(sm)$table[, "median"]),
       sm_median_lower = unname(summary(sm)$table[, "0.95LCL"]),
       sm_median_upper = unname(summary(sm)$table[, "0.95UCL"]))
}
ref$time_dependent <- list(
  demo_os = td_case(demo, "os_months", "os_event", c(0, 3, 6, 12, 24)),
  demo_pfs = td_case(demo, "pfs_months", "pfs_event", c(0, 3, 6, 12, 24))
)

# ---- piecewise treatment HR (survSplit + period-specific treatment terms) -------------------------
piece_case <- function(d, time_col, event_col, cuts) {
  base <- d[!is.na(d[[time_col]]), ]
  base$ftime <- base[[time_col]]; base$fevent <- base[[event_col]]
  base$local <- as.numeric(base$treatment_group == "local+systemic")
  sp <- survSplit(Surv(ftime, fevent) ~ ., data = base, cut = cuts, episode = "period")
  k <- length(cuts) + 1
  for (p in 1:k) sp[[paste0("local_p", p)]] <- sp$local * (sp$period == p)
  form <- as.formula(paste("Surv(tstart, ftime, fevent) ~",
                           paste(paste0("local_p", 1:k), collapse = " + "), "+ age"))
  cx <- coxph(form, data = sp, ties = "efron")
  ev <- tapply(sp$fevent, sp$period, sum)
  list(cuts = cuts, coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))),
       events = as.numeric(ev), n_rows = nrow(sp))
}
ref$piecewise <- list(
  demo_os = piece_case(demo, "os_months", "os_event", c(6, 12)),
  demo_pfs = piece_case(demo, "pfs_months", "pfs_event", c(6))
)

# ---- the same models adjusted for derived covariates (log10 AFP, BCLC C vs A/B) ------------------
# hcc_core's derived names: log10_afp = log10(max(AFP, 1)); bclc_ab_vs_c = C (or D) vs A/B (or 0).
# Also the time-dependent model's cox.zph (transform "km") and concordance, as fit_cox reports them.
derive <- function(d) {
  d$log10_afp <- log10(pmax(d$afp_ng_ml, 1))
  d$bclc_c <- as.numeric(d$bclc_stage %in% c("C", "D"))
  d
}
td_derived <- function(d, time_col, event_col) {
  base <- derive(d[!is.na(d[[time_col]]) & !is.na(d[[event_col]]), ])
  base$ftime <- base[[time_col]]; base$fevent <- base[[event_col]]
  base <- base[!(base$treatment_group == "local+systemic" & is.na(base$local_start_months)), ]
  ls <- base$local_start_months
  td <- tmerge(base[, c("patient_id", "age", "log10_afp", "bclc_c", "treatment_group")], base,
               id = patient_id, event = event(ftime, fevent))
  td <- tmerge(td, base, id = patient_id, local = tdc(ifelse(is.na(ls), NA, ls)))
  td$local[is.na(td$local)] <- 0
  cx <- coxph(Surv(tstart, tstop, event) ~ local + age + log10_afp + bclc_c, data = td,
              ties = "efron")
  z <- cox.zph(cx, transform = "km")
  naive <- coxph(Surv(ftime, fevent) ~ I(as.numeric(treatment_group == "local+systemic")) + age +
                   log10_afp + bclc_c, data = base, ties = "efron")
  list(n_rows = nrow(td), coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))),
       loglik = cx$loglik, concordance = unname(cx$concordance["concordance"]),
       zph_chisq = unname(z$table[, "chisq"]), zph_p = unname(z$table[, "p"]),
       naive_coef = unname(coef(naive)), naive_se = unname(sqrt(diag(vcov(naive)))))
}
piece_derived <- function(d, time_col, event_col, cuts) {
  base <- derive(d[!is.na(d[[time_col]]), ])
  base$ftime <- base[[time_col]]; base$fevent <- base[[event_col]]
  base$local <- as.numeric(base$treatment_group == "local+systemic")
  sp <- survSplit(Surv(ftime, fevent) ~ ., data = base, cut = cuts, episode = "period")
  k <- length(cuts) + 1
  for (p in 1:k) sp[[paste0("local_p", p)]] <- sp$local * (sp$period == p)
  form <- as.formula(paste("Surv(tstart, ftime, fevent) ~",
                           paste(paste0("local_p", 1:k), collapse = " + "),
                           "+ age + log10_afp + bclc_c"))
  cx <- coxph(form, data = sp, ties = "efron")
  list(cuts = cuts, coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))))
}
ref$derived <- list(
  td_os = td_derived(demo, "os_months", "os_event"),
  td_pfs = td_derived(demo, "pfs_months", "pfs_event"),
  piece_os = piece_derived(demo, "os_months", "os_event", c(6, 12))
)

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, null = "null", na = "null", pretty = FALSE),
           file.path(out_dir, "tte_reference.json"))
cat("wrote", file.path(out_dir, "tte_reference.json"), "\n")
