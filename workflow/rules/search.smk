# Stage 'search': rules added by the search work (see README).
