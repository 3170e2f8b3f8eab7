# Reads prisma.csv files with the PRISMA2020 R package's own code: PRISMA_data(), then
# PRISMA_flowdiagram() with the graphviz call replaced by returning the DOT text (DiagrammeR is
# not needed). Warnings are errors while the CSVs are read and drawn.
#
# Usage: Rscript prisma2020_check.R R_FOLDER CSV...   (R_FOLDER: the package's R/ files)
# Prints, per CSV: "file", then "value NAME VALUE" and "reasons NAME REASON N" for what
# PRISMA_data() read (newlines as \n), then "dot TEXT" (newlines as \n). Options of the diagram are chosen the way
# the package's Shiny app chooses them when it loads a CSV.
args <- commandArgs(trailingOnly = TRUE)
source_dir <- args[1]
grviz_text <- function(diagram, ...) diagram
for (f in sort(list.files(source_dir, pattern = "[.]R$", full.names = TRUE))) {
  code <- readLines(f, warn = FALSE)
  eval(parse(text = gsub("DiagrammeR::grViz", "grviz_text", code, fixed = TRUE)))
}
options(warn = 2)  # from here on, a warning fails the check
# PRISMA_flowdiagram() calls warning(included_box_height) on every call, whatever the data (a
# leftover debug line in every release since 2022): that one is let through, no other.
draw <- function(...) {
  withCallingHandlers(PRISMA_flowdiagram(...), warning = function(w) {
    if (grepl("^[0-9.]+$", conditionMessage(w))) invokeRestart("muffleWarning")
  })
}
for (csv_path in args[-1]) {
  data <- read.csv(csv_path)
  x <- PRISMA_data(data)
  cat("file\t", csv_path, "\n", sep = "")
  for (name in names(x)) {
    value <- x[[name]]
    if (is.data.frame(value) && name != "urls") {
      for (i in seq_len(nrow(value))) {
        cat("reasons\t", name, "\t", value[i, 1], "\t", value[i, 2], "\n", sep = "")
      }
    } else if (!is.list(value)) {
      text <- gsub("\n", "\\\\n", paste(value, collapse = "|"))  # a box text may span lines
      cat("value\t", name, "\t", text, "\n", sep = "")
    }
  }
  n_of <- function(key) data[which(data$data == key), "n"]
  arguments <- list(
    x,
    previous = any(c(n_of("previous_studies"), n_of("previous_reports")) != "0"),
    other = TRUE,
    detail_databases = n_of("database_specific_results") !=
      "Database 1, xxx; Database 2, xxx; Database 3, xxx",
    detail_registers = n_of("register_specific_results") !=
      "Register 1, xxx; Register 2, xxx; Register 3, xxx",
    side_boxes = FALSE
  )
  if ("meta_analysis" %in% names(formals(PRISMA_flowdiagram))) {
    arguments$meta_analysis <- any(c(n_of("total_studies_ma"), n_of("total_reports_ma")) != "0")
  }
  dot <- do.call(draw, arguments)
  cat("dot\t", gsub("\n", "\\\\n", dot), "\n", sep = "")
}
