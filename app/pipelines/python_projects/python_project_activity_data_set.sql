-- The flat data set of the days @days@.
INSERT INTO pp_dim_next.python_project_activity_data_set
SELECT _date, project_name, number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests,
       number_of_pushes
FROM pp_dim_next.python_project_activity
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN time.day ON day_id = day_fk
WHERE day_fk IN (@days@);
