// The statistics dashboard's charts: only the echarts parts it uses (bar, line, pie; canvas renderer),
// bundled by esbuild into app/static/admin/build/charts.js and served locally (no CDN).
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent,
  CanvasRenderer]);

export { echarts };
