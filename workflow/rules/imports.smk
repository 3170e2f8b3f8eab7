# Stage 'imports': rules added by the imports work (see README).
